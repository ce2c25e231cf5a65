import GuestAccessCore
import GuestAccessProto
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWire
import Synchronization
import Testing

/// Every client bounded (docs/PROTOCOL.md §11): hostile raw clients against a
/// real server over loopback, while a well-behaved client keeps being served.
@Suite("Limits on every client", .serialized)
struct ClientBoundsTests {
  static func expectServed(_ channel: RPCChannel) async throws {
    try await BackPressureTests.expectServed(channel, within: .seconds(5))
  }

  /// Samples `transport.bufferedBytes` every few milliseconds until cancelled; returns the peak.
  static func peakBuffered(_ transport: TCPServerTransport) -> Task<Int, Never> {
    Task {
      var peak = 0
      while !Task.isCancelled {
        peak = max(peak, transport.bufferedBytes)
        try? await Task.sleep(for: .milliseconds(2))
      }
      return peak
    }
  }

  @Test("a flood of call headers without their messages is held to a few per connection")
  func pendingHeadersFlood() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let raw = try await RawConnection.handshake(port: server.port)
      raw.setSendBuffer(64 << 10)
      // 1,000 HEADERS of 60 KB each (under the 64 KiB header limit), never their MESSAGE.
      let pad = [MetadataEntry(key: "x-pad", value: String(repeating: "h", count: 60_000))]
      var bytes: [UInt8] = []
      for id in 1...1000 as ClosedRange<UInt32> { bytes += Frames.headers(id, TestService.echo.path, metadata: pad) }
      let peak = Self.peakBuffered(server.transport)
      let sent = await raw.sendUntilBlocked(bytes, timeout: .seconds(1))
      try await Self.expectServed(channel)
      peak.cancel()
      // The server stopped reading after 256 KiB of pending headers: the rest
      // of the 60 MB sits in the kernel's socket buffers, or was never sent.
      #expect(sent < 16 << 20, "the server took \(sent) bytes of pending headers")
      let held = await peak.value
      #expect(held <= 256 << 10, "pending header bytes held: \(held)")
      raw.reset()
      #expect(await eventually { server.transport.connectionCount == 1 && server.transport.bufferedBytes == 0 })
    }
  }

  @Test("a connection that has not authenticated runs a few calls at a time; one that has, more")
  func callsBeforeAuthentication() async throws {
    let service = TestService()
    try await withServer(services: [service], configuration: testConfiguration { $0.maxCallsBeforeAuthentication = 4 }) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let anonymous = try await RawConnection.handshake(port: server.port)
      var bytes: [UInt8] = []
      for id in 1...10 as ClosedRange<UInt32> {
        bytes += Frames.call(id, TestService.echo, HealthCheckRequest(service: "delay=600;key=a\(id)"))
      }
      try await anonymous.send(bytes)
      #expect(await service.probe.wait(prefix: "started:a", count: 4))
      try await Task.sleep(for: .milliseconds(200))
      #expect(service.probe.count(prefix: "started:a") == 4, "more than 4 calls ran before authentication")
      try await Self.expectServed(channel)
      // As calls end, the waiting ones start; every call is answered.
      #expect(await service.probe.wait(prefix: "started:a", count: 10))
      let answered = try await anonymous.readFrame { $0.header.callID == 10 && $0.header.frameType == .trailers }
      #expect(answered?.trailers?.code == 0)
      // A connection whose first call authenticates runs all of them.
      let known = try await RawConnection.handshake(port: server.port)
      var login = Frames.call(1, TestService.login, HealthCheckRequest(service: "me"))
      for id in 2...11 as ClosedRange<UInt32> { login += Frames.call(id, TestService.hang, HealthCheckRequest(service: "k\(id)")) }
      try await known.send(login)
      #expect(await service.probe.wait(prefix: "started:k", count: 10))
      anonymous.reset()
      known.reset()
    }
  }

  @Test("a client that never reads its responses is closed after the send timeout and its memory returned")
  func neverReadingClientClosed() async throws {
    let service = TestService()
    try await withServer(services: [service], configuration: testConfiguration { $0.sendTimeout = .seconds(1) }) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let raw = try await RawConnection.connect(port: server.port)
      raw.setReceiveBuffer(4096)
      var bytes = Preface.bytes
      for id in 1...2000 as ClosedRange<UInt32> {
        bytes += Frames.call(id, TestService.blob, HealthCheckRequest(service: "key=n;size=65536"))
      }
      let peak = Self.peakBuffered(server.transport)
      try await raw.send(bytes)
      #expect(await service.probe.wait(prefix: "started:n", count: 50))
      try await Self.expectServed(channel)
      #expect(await eventually(timeout: .seconds(5)) { server.transport.connectionCount == 1 }, "the non-reader was not closed")
      peak.cancel()
      // 8 MiB queued at most, plus the responses of one turn's calls (64 × 64 KiB).
      let queued = await peak.value
      #expect(queued <= 12 << 20 + 64 << 16, "queued: \(queued)")
      #expect(service.probe.count(prefix: "started:n") < 1000, "the server kept taking its requests")
      #expect(await eventually { server.transport.bufferedBytes == 0 })
      try await Self.expectServed(channel)
    }
  }

  @Test("over the memory budget the clients over their bound are closed, never the server")
  func globalMemoryBudget() async throws {
    let service = TestService()
    let configuration = testConfiguration {
      $0.memoryBudget = 16 << 20
      $0.maxQueuedResponseBytes = 2 << 20
    }
    try await withServer(services: [service], configuration: configuration) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let peak = Self.peakBuffered(server.transport)
      var hostile: [RawConnection] = []
      for round in 0..<6 {
        let raw = try await RawConnection.connect(port: server.port)
        raw.setReceiveBuffer(4096)
        var bytes = Preface.bytes
        for id in 1...500 as ClosedRange<UInt32> {
          bytes += Frames.call(id, TestService.blob, HealthCheckRequest(service: "key=g\(round);size=65536"))
        }
        try await raw.send(bytes)
        hostile.append(raw)
      }
      try await Self.expectServed(channel)
      #expect(
        await eventually { server.transport.connectionCount < 1 + hostile.count },
        "no client over the budget was closed: \(server.transport.bufferedBytes) bytes buffered")
      try await Self.expectServed(channel)
      peak.cancel()
      // The budget, plus what calls already running produced before the check.
      let buffered = await peak.value
      #expect(buffered <= 48 << 20, "buffered: \(buffered)")
      #expect(server.transport.bufferedBytes <= 16 << 20 + 6 * (64 << 16))
      for raw in hostile { raw.reset() }
      #expect(await eventually { server.transport.bufferedBytes == 0 })
    }
  }

  @Test("a flood of connections from one address leaves room for other clients")
  func connectionsPerPeer() async throws {
    let configuration = testConfiguration {
      $0.maxConnections = 16
      $0.maxConnectionsPerPeer = 8
    }
    try await withServer(configuration: configuration) { server in
      var flood: [RawConnection] = []
      for _ in 0..<20 { flood.append(try await RawConnection.handshake(port: server.port, timeout: .milliseconds(300), from: "127.0.0.2")) }
      var refused = 0
      for raw in flood {
        // Admitted connections get the preface only (the read times out); the others a GOAWAY.
        if let frame = try? await raw.readFrame(), let goAway = frame.goAway {
          #expect(goAway.code == StatusCode.resourceExhausted.rawValue)
          #expect(goAway.message.contains("per client address"), "\(goAway.message)")
          refused += 1
        }
      }
      #expect(refused == 12)
      #expect(server.transport.connectionCount == 8)
      // Another address is served, on several connections.
      let channel = server.channel(connections: 4)
      defer { channel.transport.close() }
      for _ in 0..<8 { try await Self.expectServed(channel) }
      for raw in flood { raw.reset() }
      #expect(await eventually { server.transport.connectionCount <= 4 })
    }
  }

  @Test("one address runs a bounded number of calls over all its connections; another address is served")
  func runningCallsPerPeer() async throws {
    let service = TestService()
    try await withServer(services: [service], configuration: testConfiguration { $0.maxRunningCallsPerPeer = 4 }) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      // Three connections from one address, 3 calls of 600 ms each: 9 calls, at most 4 running at a time.
      var flood: [RawConnection] = []
      for connection in 0..<3 {
        let raw = try await RawConnection.handshake(port: server.port, from: "127.0.0.2")
        var bytes: [UInt8] = []
        for id in 1...3 as ClosedRange<UInt32> {
          bytes += Frames.call(id, TestService.echo, HealthCheckRequest(service: "delay=600;key=p\(connection)-\(id)"))
        }
        try await raw.send(bytes)
        flood.append(raw)
      }
      #expect(await service.probe.wait(prefix: "started:p", count: 4))
      try await Task.sleep(for: .milliseconds(200))
      // The limit, plus at most one call for each connection that had none running (no starvation).
      let running = service.probe.count(prefix: "started:p")
      #expect((4...6).contains(running), "\(running) calls of one address ran at once (limit 4, 3 connections)")
      for connection in 0..<3 {
        #expect(service.probe.count(prefix: "started:p\(connection)-") >= 1, "connection \(connection) starved")
      }
      // Another address is not held back by them.
      try await Self.expectServed(channel)
      // As calls end, the held ones start, on every connection; all are answered.
      #expect(await service.probe.wait(prefix: "started:p", count: 9))
      for raw in flood {
        let answered = try await raw.readFrame { $0.header.callID == 3 && $0.header.frameType == .trailers }
        #expect(answered?.trailers?.code == 0)
        raw.reset()
      }
    }
  }

  @Test("cancelled calls and calls of a closed connection stop counting against their address's running calls")
  func runningCallsPerPeerReleased() async throws {
    let service = TestService()
    try await withServer(services: [service], configuration: testConfiguration { $0.maxRunningCallsPerPeer = 2 }) { server in
      // Two running calls cancelled by the client (CANCEL frames)...
      let raw = try await RawConnection.handshake(port: server.port, from: "127.0.0.2")
      defer { raw.reset() }
      try await raw.send(Frames.call(1, TestService.hang, HealthCheckRequest(service: "c1")) + Frames.call(2, TestService.hang, HealthCheckRequest(service: "c2")))
      #expect(await service.probe.wait(prefix: "started:c", count: 2))
      try await raw.send(Frames.raw(type: FrameType.cancel.rawValue, callID: 1) + Frames.raw(type: FrameType.cancel.rawValue, callID: 2))
      #expect(await service.probe.wait(prefix: "cancelled:c", count: 2))
      // ...and two of another connection of the address that closed while they ran.
      let closing = try await RawConnection.handshake(port: server.port, from: "127.0.0.2")
      try await closing.send(Frames.call(1, TestService.hang, HealthCheckRequest(service: "d1")) + Frames.call(2, TestService.hang, HealthCheckRequest(service: "d2")))
      #expect(await service.probe.wait(prefix: "started:d", count: 2))
      closing.reset()
      #expect(await service.probe.wait(prefix: "cancelled:d", count: 2))
      // None of them runs any more: the address may run two calls at once again
      // (counted as still running, the second call would wait for the first, which never ends).
      try await raw.send(Frames.call(3, TestService.hang, HealthCheckRequest(service: "e3")))
      #expect(await service.probe.wait(for: "started:e3"))
      try await raw.send(Frames.call(4, TestService.echo, HealthCheckRequest(service: "key=e4")))
      #expect(await service.probe.wait(for: "started:e4"))
    }
  }
}
