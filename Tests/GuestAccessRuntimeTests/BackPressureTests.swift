import GuestAccessCore
import GuestAccessProto
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWire
import Testing

@Suite("Slow and vanishing peers")
struct BackPressureTests {
  static let echo = HealthCheckRequest(service: "ping")

  /// A generous bound: the point is "not stalled behind the slow peer", and CI machines are loaded
  /// (stretched by `TestTime.scale` under sanitizers).
  static func expectServed(_ channel: RPCChannel, within limit: Duration = .seconds(3)) async throws {
    let started = ContinuousClock.now
    let echoed = try await channel.unary(
      TestService.echo, request: echo, responseType: HealthCheckRequest.self, options: CallOptions(timeout: .seconds(5).scaled))
    #expect(echoed == echo)
    #expect(started.duration(to: .now) < limit.scaled)
  }

  @Test("a client that never reads its streams does not stall others")
  func nonReadingStreams() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let raw = try await RawConnection.connect(port: server.port)
      raw.setReceiveBuffer(4096)
      var bytes = Preface.bytes
      for id in 1...50 as ClosedRange<UInt32> {
        bytes += Frames.call(id, TestService.stream, HealthCheckRequest(service: "count=0;size=65536;key=s\(id)"))
      }
      try await raw.send(bytes)
      #expect(await service.probe.wait(prefix: "started:s", count: 50))
      // The streams are now blocked on the full socket; others are served.
      for _ in 0..<20 { try await Self.expectServed(channel) }
      #expect(server.transport.connectionCount == 2)
      raw.reset()
      #expect(await service.probe.wait(prefix: "cancelled:s", count: 50))
      #expect(await eventually { server.transport.connectionCount == 1 })
      try await Self.expectServed(channel)
    }
  }

  @Test("a client that floods unary calls without reading is paused, not buffered without bound")
  func nonReadingUnaryFlood() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let raw = try await RawConnection.connect(port: server.port, timeout: .seconds(2))
      raw.setReceiveBuffer(4096)
      let calls = 3000
      let flood = Task {
        try? await raw.send(Preface.bytes)
        for batch in 0..<(calls / 100) {
          var bytes: [UInt8] = []
          for index in 1...100 {
            let id = UInt32(batch * 100 + index)
            bytes += Frames.call(id, TestService.blob, HealthCheckRequest(service: "key=f;size=10000"))
          }
          guard (try? await raw.send(bytes)) != nil else { return }
        }
      }
      // Wait until the server stopped taking requests from it.
      var handled = 0
      for _ in 0..<100 {
        try await Task.sleep(for: .milliseconds(50))
        let now = service.probe.count("started:f")
        if now > 0 && now == handled { break }
        handled = now
      }
      #expect(handled > 100)
      // About 8 MiB of unsent responses plus the kernel's socket buffers.
      #expect(handled < 2000, "the server kept reading while its responses piled up")
      for _ in 0..<20 { try await Self.expectServed(channel) }
      raw.closeNow()  // FIN, not a reset: the paused connection must notice it too
      await flood.value
      #expect(await eventually { server.transport.connectionCount == 1 })
      try await Self.expectServed(channel)
    }
  }

  @Test("a peer that resets mid-call cancels its handler and harms nothing (no SIGPIPE)")
  func resetMidCall() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      for round in 0..<5 {
        let raw = try await RawConnection.handshake(port: server.port)
        try await raw.send(Frames.call(1, TestService.hang, HealthCheckRequest(service: "h\(round)")))
        try await raw.send(Frames.call(2, TestService.stream, HealthCheckRequest(service: "count=0;size=1000;key=st\(round)")))
        #expect(await service.probe.wait(for: "started:h\(round)"))
        #expect(await service.probe.wait(for: "started:st\(round)"))
        _ = try await raw.readFrame()
        if round % 2 == 0 { raw.reset() } else { raw.closeNow() }
        #expect(await service.probe.wait(for: "cancelled:h\(round)"))
        #expect(await service.probe.wait(for: "cancelled:st\(round)"))
        try await Self.expectServed(channel)
      }
      #expect(await eventually { server.transport.connectionCount == 1 })
    }
  }

  @Test("more calls than the per-connection limit are RESOURCE_EXHAUSTED")
  func concurrentCallLimit() async throws {
    let service = TestService()
    try await withServer(services: [service], configuration: testConfiguration { $0.maxConcurrentCallsPerConnection = 3 }) { server in
      let raw = try await RawConnection.handshake(port: server.port)
      var bytes: [UInt8] = []
      for id in 1...4 as ClosedRange<UInt32> { bytes += Frames.call(id, TestService.hang, HealthCheckRequest(service: "l\(id)")) }
      try await raw.send(bytes)
      let refused = try await raw.readFrame()
      #expect(refused?.header.callID == 4)
      #expect(refused?.trailers?.code == StatusCode.resourceExhausted.rawValue)
      #expect(await service.probe.wait(prefix: "started:l", count: 3))
    }
  }
}
