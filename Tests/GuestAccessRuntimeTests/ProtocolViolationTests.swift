import GuestAccessCore
import GuestAccessProto
import GuestAccessTransport
import GuestAccessWire
import Testing

@Suite("Protocol violations close only their connection")
struct ProtocolViolationTests {
  static let echo = HealthCheckRequest(service: "fine")

  /// Sends `bytes` on a fresh raw connection and checks that the server
  /// closes it, while a client on another connection keeps being served.
  static func expectClosed(_ bytes: [UInt8], preface: Bool = true, server: TestServer, channel: RPCChannel) async throws -> [Frame] {
    let raw = try await RawConnection.connect(port: server.port)
    try await raw.send((preface ? Preface.bytes : []) + bytes)
    let frames = try await raw.readUntilClosed()
    let echoed = try await channel.unary(TestService.echo, request: echo, responseType: HealthCheckRequest.self, options: .defaults)
    #expect(echoed == echo)
    return frames
  }

  static let cases: [(String, [UInt8], Bool)] = [
    ("HTTP instead of a preface", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), false),
    ("wrong protocol version", [0x47, 0x41, 0x52, 0x50, 2, 0, 0, 0], false),
    ("nonzero preface padding", [0x47, 0x41, 0x52, 0x50, 1, 0, 0, 1], false),
    ("reserved bytes set", Frames.headers(1, TestService.echo.path).enumerated().map { $0.offset == 7 ? 1 : $0.element }, true),
    ("unknown frame type", Frames.raw(type: 9, callID: 1), true),
    ("MESSAGE for an unopened call", Frames.message(5, echo), true),
    ("decreasing call ids", Frames.call(3, TestService.echo, echo) + Frames.call(2, TestService.echo, echo), true),
    ("repeated call id", Frames.call(1, TestService.echo, echo) + Frames.call(1, TestService.echo, echo), true),
    ("HEADERS on call 0", Frames.headers(0, TestService.echo.path), true),
    ("undecodable call headers", Frames.raw(type: 1, callID: 1, payload: [0x0A, 0x7F]), true),
    ("TRAILERS from a client", Frames.raw(type: 3, callID: 1), true),
    ("GOAWAY from a client", Frames.raw(type: 6, callID: 0), true),
    ("PING on a call", Frames.raw(type: 5, callID: 1, payload: [0, 0, 0, 0, 0, 0, 0, 0]), true),
    ("short PING", Frames.raw(type: 5, callID: 0, payload: [1]), true),
    ("oversized PING", [0, 0xA0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0], true),
    ("oversized CANCEL", [0, 0xA0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 1], true),
  ]

  @Test("malformed input closes the connection with a GOAWAY", arguments: 0..<cases.count)
  func malformed(index: Int) async throws {
    let (name, bytes, preface) = Self.cases[index]
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let frames = try await Self.expectClosed(bytes, preface: preface, server: server, channel: channel)
      let goAway = frames.last?.goAway
      #expect(goAway?.code == StatusCode.internalError.rawValue, "\(name): \(frames)")
      #expect(goAway?.message.contains("protocol violation") == true, "\(name)")
    }
  }

  @Test("the GOAWAY for a bad preface names what is wrong with it")
  func prefaceMessages() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let cases: [([UInt8], String)] = [
        ([0x47, 0x41, 0x52, 0x50, 2, 0, 0, 0], "unsupported protocol version 2"),
        ([0x47, 0x41, 0x52, 0x50, 1, 0, 0, 1], "non-zero reserved bytes in the connection preface"),
        ([0x47, 0x41, 0x52, 0x50, 1, 7, 0, 0], "non-zero reserved bytes in the connection preface"),
      ]
      for (bytes, expected) in cases {
        let frames = try await Self.expectClosed(bytes, preface: false, server: server, channel: channel)
        let message = frames.last?.goAway?.message ?? ""
        #expect(message.contains(expected), "\(bytes): \(message)")
        #expect(!message.contains("version 1"), "\(bytes): \(message)")
      }
    }
  }

  @Test("random bytes never disturb other connections")
  func randomBytes() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      var generator = SystemRandomNumberGenerator()
      for round in 0..<40 {
        let length = Int.random(in: 1...4096, using: &generator)
        var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Half the time, start with a valid preface and a valid frame header prefix.
        let preface = round % 2 == 0
        if preface && bytes.count > 12 { bytes.replaceSubrange(0..<8, with: Frames.raw(type: UInt8(round % 7), callID: UInt32(round)).prefix(8)) }
        let raw = try await RawConnection.connect(port: server.port, timeout: .seconds(4))
        try? await raw.send((preface ? Preface.bytes : []) + bytes)
        // Either a violation closes it, or it waits for more (then we hang up).
        raw.reset()
        let echoed = try await channel.unary(TestService.echo, request: Self.echo, responseType: HealthCheckRequest.self, options: .defaults)
        #expect(echoed == Self.echo)
      }
      #expect(await eventually { server.transport.connectionCount == 1 })
    }
  }

  @Test("fuzzed valid-looking frames never crash the server")
  func fuzzedFrames() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      for seed in 0..<60 {
        var bytes = Preface.bytes
        var callID: UInt32 = 1
        for step in 0..<20 {
          let type = UInt8((seed + step) % 7)
          let length = [0, 1, 8, 30, 200][(seed * 3 + step) % 5]
          var payload = (0..<length).map { _ in UInt8.random(in: 0...255) }
          if type == 1 && step % 3 == 0 {
            payload = []
            CallHeaders(method: TestService.echo.path, timeoutMicros: UInt64(step)).serialize(into: &payload)
          }
          bytes += Frames.raw(type: type, flags: UInt8(step % 2), callID: step % 4 == 0 ? 0 : callID, payload: payload)
          if type == 1 { callID += 1 }
        }
        let raw = try await RawConnection.connect(port: server.port, timeout: .seconds(4))
        try? await raw.send(bytes)
        raw.reset()
      }
      let echoed = try await channel.unary(TestService.echo, request: Self.echo, responseType: HealthCheckRequest.self, options: .defaults)
      #expect(echoed == Self.echo)
      #expect(await eventually { server.transport.connectionCount == 1 })
    }
  }

  @Test("client streaming (MESSAGE without END_STREAM) is UNIMPLEMENTED, the connection stays")
  func clientStreaming() async throws {
    try await withServer { server in
      let raw = try await RawConnection.handshake(port: server.port)
      try await raw.send(Frames.headers(1, TestService.echo.path) + Frames.message(1, Self.echo, endStream: false))
      let frame = try await raw.readFrame()
      #expect(frame?.header.callID == 1)
      #expect(frame?.trailers?.code == StatusCode.unimplemented.rawValue)
      try await raw.send(Frames.call(2, TestService.echo, Self.echo))
      let answer = try await raw.readFrame()
      #expect(answer?.header.frameType == .message)
      #expect(answer?.header.callID == 2)
    }
  }

  @Test("a NUL byte in a string of the request or of the call headers fails the call, not the connection")
  func nulInStrings() async throws {
    try await withServer { server in
      let raw = try await RawConnection.handshake(port: server.port)
      // The request: HealthCheckRequest.service = "a\0b" (built by hand: the Swift encoder stops at a NUL).
      try await raw.send(Frames.headers(1, TestService.echo.path) + Frames.raw(type: 2, flags: 1, callID: 1, payload: [0x0A, 3, 0x61, 0, 0x62]))
      let refused = try await raw.readFrame { $0.header.callID == 1 && $0.header.frameType == .trailers }
      #expect(refused?.trailers?.code == StatusCode.invalidArgument.rawValue)
      // The call headers: metadata entry {key "k", value "a\0b"}.
      let path = Array(TestService.echo.path.utf8)
      let entry: [UInt8] = [0x0A, 1, 0x6B, 0x12, 3, 0x61, 0, 0x62]
      let headers: [UInt8] = [0x0A, UInt8(path.count)] + path + [0x12, UInt8(entry.count)] + entry
      try await raw.send(Frames.raw(type: 1, callID: 3, payload: headers) + Frames.message(3, Self.echo))
      let refusedHeaders = try await raw.readFrame { $0.header.callID == 3 && $0.header.frameType == .trailers }
      #expect(refusedHeaders?.trailers?.code == StatusCode.invalidArgument.rawValue)
      #expect(refusedHeaders?.trailers?.message.contains("NUL") == true, "\(String(describing: refusedHeaders?.trailers))")
      // Same connection, a good call.
      try await raw.send(Frames.call(5, TestService.echo, Self.echo))
      let answer = try await raw.readFrame { $0.header.callID == 5 }
      #expect(answer?.header.frameType == .message)
    }
  }
}
