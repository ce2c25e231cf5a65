import GuestAccessCore
import GuestAccessProto
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The TCP transport with TLS: large messages and streams cross many TLS
/// records both ways, plaintext clients are told TLS is required, and
/// hostile clients (silent, half a ClientHello, garbage, more connections
/// than allowed) cost only their own connection.
@Suite(.serialized) struct TLSTransportTests {
  private static func tlsConfiguration(
    _ certificates: TestCertificates, _ adjust: (inout TCPServerConfiguration) -> Void = { _ in }
  ) -> TCPServerConfiguration {
    testConfiguration {
      $0.tls = TLSServerOptions(certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey)
      adjust(&$0)
    }
  }

  private static func client(_ server: TestServer, _ certificates: TestCertificates, connections: Int = 1) -> TCPClientTransport {
    TCPClientTransport(
      host: "127.0.0.1", port: server.port, connections: connections, connectTimeout: .seconds(5).scaled,
      tls: TLSConfiguration(caFile: certificates.caFile))
  }

  /// Reads and drops bytes until the server closes; returns whether it did before the read timeout.
  private static func waitForClose(_ connection: RawConnection) async -> Bool {
    let fd = connection.fd
    return (try? await blocking { () -> Bool in
      var buffer = [UInt8](repeating: 0, count: 4096)
      while true {
        let received = recv(fd, &buffer, buffer.count, 0)
        if received == 0 { return true }
        if received < 0 { return errno == ECONNRESET }
      }
    }) ?? false
  }

  @Test("large requests, responses and streams cross TLS intact")
  func largeMessages() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    try await withServer(configuration: Self.tlsConfiguration(certificates)) { server in
      let transport = Self.client(server, certificates)
      defer { transport.close() }
      // A 3 MiB request: the server reads it record by record (16 KiB each).
      let request = TestService.blob(size: 3 << 20)
      let sized = try await transport.unary(path: TestService.size.path, metadata: [:], deadline: .now + .seconds(30).scaled, request: request)
      #expect(try HealthCheckRequest(serializedBytes: sized).service == "size=\(request.count)")
      // A 3 MiB response.
      let blob = try await transport.unary(
        path: TestService.blob.path, metadata: [:], deadline: .now + .seconds(30).scaled,
        request: HealthCheckRequest(service: "size=\(3 << 20)").serializedBytes())
      #expect(blob == TestService.blob(size: 3 << 20))
      // 300 messages of 20 KB, and unary calls interleaved on the same connection.
      let stream = transport.serverStreaming(
        path: TestService.stream.path, metadata: [:], deadline: .now + .seconds(30).scaled,
        request: HealthCheckRequest(service: "count=300;size=20000").serializedBytes())
      let echoes = Task {
        for index in 0..<50 {
          let echo = HealthCheckRequest(service: "echo-\(index)").serializedBytes()
          let answer = try await transport.unary(path: TestService.echo.path, metadata: [:], deadline: .now + .seconds(30).scaled, request: echo)
          #expect(answer == echo)
        }
      }
      var received = 0
      for try await message in stream {
        #expect(message.count == TestService.blob(size: 20000).count)
        received += 1
      }
      try await echoes.value
      #expect(received == 300)
    }
  }

  @Test("a unary pipeline over TLS: responses spanning many records, every call of every slot")
  func pipelineOverTLS() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    try await withServer(configuration: Self.tlsConfiguration(certificates)) { server in
      let transport = Self.client(server, certificates)
      defer { transport.close() }
      let driver = RecordingDriver(callsPerSlot: 25)
      let request = HealthCheckRequest(service: "size=100000").serializedBytes()
      transport.makePipeline(
        call: UnaryPipeline.Call(path: TestService.blob.path, metadata: [:], request: request, timeout: .seconds(30).scaled), depth: 4,
        loop: transport.loops[0], driver: driver
      ).start()
      await driver.waitUntilFinished()
      #expect(driver.outcomes.count == 100)
      #expect(driver.outcomes.allSatisfy { $0.error == nil && $0.responseBytes == TestService.blob(size: 100_000).count })
    }
  }

  @Test("a plaintext client on a TLS port is told to use TLS")
  func plaintextClientRefused() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    try await withServer(configuration: Self.tlsConfiguration(certificates)) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let error = await #expect(throws: RPCError.self) {
        _ = try await channel.unary(TestService.echo, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
      }
      #expect(error?.code == .unavailable)
      #expect(error?.message.contains("requires TLS") == true, "\(String(describing: error))")
      // The TLS client is served, and the refused connection is gone.
      let transport = Self.client(server, certificates)
      defer { transport.close() }
      try await BackPressureTests.expectServed(RPCChannel(transport: transport, retryPolicy: .none), within: .seconds(5))
      #expect(await eventually { server.transport.connectionCount == 1 })
    }
  }

  /// A TLS server with 1 s (scaled) handshake and frame timeouts and a
  /// well-behaved client's channel already served once, for hostile tests.
  private static func withHostileTLSServer(
    _ body: (TestServer, TestCertificates, RPCChannel) async throws -> Void
  ) async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    let configuration = tlsConfiguration(certificates) {
      $0.handshakeTimeout = .seconds(1).scaled
      $0.frameTimeout = .seconds(1).scaled
    }
    try await withServer(configuration: configuration) { server in
      let transport = client(server, certificates)
      defer { transport.close() }
      let channel = RPCChannel(transport: transport, retryPolicy: .none)
      try await BackPressureTests.expectServed(channel, within: .seconds(5))
      try await body(server, certificates, channel)
    }
  }

  @Test("silent, half-handshake and garbage TLS clients are closed; others are served throughout")
  func hostileHandshakes() async throws {
    try await Self.withHostileTLSServer { server, _, channel in
      let started = ContinuousClock.now
      let silent = try await RawConnection.connect(port: server.port)
      // The first bytes of a ClientHello record, then nothing.
      let halfHello = try await RawConnection.connect(port: server.port)
      try await halfHello.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
      // Not TLS at all (the first byte is no TLS record type).
      let garbage = try await RawConnection.connect(port: server.port)
      try await garbage.send((0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
      #expect(await Self.waitForClose(garbage))
      #expect(started.duration(to: .now) < .seconds(1).scaled, "garbage is refused at once, not at the timeout")
      try await BackPressureTests.expectServed(channel)
      for (name, raw) in [("silent", silent), ("half ClientHello", halfHello)] {
        #expect(await Self.waitForClose(raw), "\(name)")
        try await BackPressureTests.expectServed(channel)
      }
      #expect(started.duration(to: .now) < .seconds(8).scaled)
      #expect(await eventually { server.transport.connectionCount == 1 })
    }
  }

  @Test("after the TLS handshake, silent, slowloris and garbage clients are closed; others are served throughout")
  func hostileClientsInsideTLS() async throws {
    // The 1 s timeouts, as in the plaintext slowloris test: the dribbler (1,000 bytes at 50 ms each) outlasts them many times over.
    try await Self.withHostileTLSServer { server, certificates, channel in
      let started = ContinuousClock.now
      // TLS done, then no protocol preface at all.
      let silent = try await RawTLSConnection.connect(port: server.port, caFile: certificates.caFile)
      // The preface and a call's headers, then half a frame header.
      let halfHeader = try await RawTLSConnection.connect(port: server.port, caFile: certificates.caFile)
      await halfHeader.send(Preface.bytes + [0, 0, 0])
      // Garbage inside the session instead of the preface: refused at once.
      let garbage = try await RawTLSConnection.connect(port: server.port, caFile: certificates.caFile)
      let garbageSent = ContinuousClock.now
      await garbage.send((0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
      #expect(await garbage.waitForClose())
      #expect(garbageSent.duration(to: .now) < .seconds(1).scaled, "garbage is refused at once, not at the timeout")
      // Slowloris: one byte of a 1,000-byte message every 50 ms, each in its own TLS record.
      let dribble = try await RawTLSConnection.connect(port: server.port, caFile: certificates.caFile)
      await dribble.send(Preface.bytes + Frames.headers(1, TestService.echo.path))
      let dribbling = Task {
        var header: [UInt8] = []
        FrameHeader(length: 1000, type: .message, flags: .endStream, callID: 1).encode(into: &header)
        for byte in header + [UInt8](repeating: 0, count: 1000) {
          guard await dribble.send([byte]) else { return }
          try? await Task.sleep(for: .milliseconds(50))
        }
      }
      defer { dribbling.cancel() }
      for (name, raw) in [("silent", silent), ("half header", halfHeader), ("dribble", dribble)] {
        #expect(await raw.waitForClose(), "\(name)")
        try await BackPressureTests.expectServed(channel)
      }
      // The dribbler alone would hold its connection for 50 s.
      #expect(started.duration(to: .now) < .seconds(10).scaled)
      #expect(await eventually { server.transport.connectionCount == 1 })
    }
  }

  @Test("TLS connections over the limit get GOAWAY RESOURCE_EXHAUSTED over TLS")
  func connectionFlood() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    try await withServer(configuration: Self.tlsConfiguration(certificates) { $0.maxConnections = 2 }) { server in
      let first = Self.client(server, certificates)
      let second = Self.client(server, certificates)
      defer {
        first.close()
        second.close()
      }
      try await first.connect()
      try await second.connect()
      #expect(await eventually { server.transport.connectionCount == 2 })
      for _ in 0..<20 {
        let extra = RPCChannel(transport: Self.client(server, certificates), retryPolicy: .none)
        let error = await #expect(throws: RPCError.self) {
          _ = try await extra.unary(TestService.echo, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("connection limit") == true, "\(String(describing: error))")
        extra.transport.close()
      }
      try await BackPressureTests.expectServed(RPCChannel(transport: first, retryPolicy: .none))
      #expect(server.transport.connectionCount == 2)
    }
  }
}
