import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessServer
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWire
import Synchronization
import Testing

@Suite("Connection lifecycle")
struct LifecycleTests {
  @Test("graceful shutdown under load fails no call the server accepted")
  func gracefulDrainUnderLoad() async throws {
    let service = TestService()
    let transport = TCPServerTransport(configuration: testConfiguration { $0.loopCount = 2 })
    let server = RPCServer(transports: [transport], services: [service])
    let serving = Task { try await server.serve() }
    defer { server.stop() }
    let port = try await transport.listeningPort()
    let client = TCPClientTransport(host: "127.0.0.1", port: port, connections: 2, connectTimeout: .seconds(1))
    defer { client.close() }
    let channel = RPCChannel(transport: client, retryPolicy: .none)
    let succeeded = Locked(0)
    let refused = Locked(0)
    let unexpected = Locked<[RPCError]>([])
    let stopIssuing = Locked(false)
    let workers = Task {
      await withTaskGroup(of: Void.self) { group in
        for worker in 0..<200 {
          group.addTask {
            var sequence = 0
            while !stopIssuing.value {
              sequence += 1
              let request = HealthCheckRequest(service: "delay=\(100 + worker % 50);key=w\(worker)-\(sequence)")
              do {
                let response = try await channel.unary(TestService.echo, request: request, responseType: HealthCheckRequest.self, options: .defaults)
                #expect(response == request)
                succeeded.withLock { $0 += 1 }
              } catch let error as RPCError {
                if error.code == .unavailable && error.reason == .callNotProcessed {
                  refused.withLock { $0 += 1 }
                  try? await Task.sleep(for: .milliseconds(20))
                } else {
                  unexpected.withLock { $0.append(error) }
                }
              } catch {
                unexpected.withLock { $0.append(RPCError(code: .unknown, message: "\(error)")) }
              }
            }
          }
        }
      }
    }
    // Let the load build up: every worker has a call in the handler.
    #expect(await service.probe.wait(prefix: "started:", count: 600, timeout: .seconds(10)))
    server.beginGracefulShutdown()
    try await serving.value
    stopIssuing.withLock { $0 = true }
    await workers.value
    #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0.prefix(5) })")
    #expect(succeeded.value == service.probe.count(prefix: "started:"), "every call a handler started succeeded")
    #expect(refused.value > 0)
    // The server is gone: new calls fail UNAVAILABLE.
    let error = await #expect(throws: RPCError.self) {
      _ = try await channel.unary(TestService.echo, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
    }
    #expect(error?.code == .unavailable)
  }

  @Test("Health.Watch streams every change")
  func healthWatch() async throws {
    let health = HealthService()
    try await withServer(services: [health]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let client = Health.Client(channel: channel)
      let seen = try await client.watch(HealthCheckRequest(service: "")) { stream in
        var seen: [ServingStatus] = []
        for try await response in stream {
          seen.append(response.status)
          switch seen.count {
          case 1: health.setStatus(.notServing)
          case 2: health.setStatus(.serving)
          default: return seen
          }
        }
        return seen
      }
      #expect(seen == [.serving, .notServing, .serving])
      let unknown = try await client.watch(HealthCheckRequest(service: "x.Later")) { stream in
        var seen: [ServingStatus] = []
        for try await response in stream {
          seen.append(response.status)
          if seen.count == 1 { health.setStatus(.serving, for: "x.Later") } else { return seen }
        }
        return seen
      }
      #expect(unknown == [.serviceUnknown, .serving])
      let checked = try await client.check(HealthCheckRequest(service: "x.Later"))
      #expect(checked.status == .serving)
    }
  }

  @Test("a PING is answered with the same payload")
  func pingAnswered() async throws {
    try await withServer { server in
      let raw = try await RawConnection.handshake(port: server.port)
      let payload: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
      try await raw.send(Frames.raw(type: FrameType.ping.rawValue, callID: 0, payload: payload))
      let pong = try await raw.readFrame()
      #expect(pong?.header.frameType == .ping)
      #expect(pong?.header.flags == .ack)
      #expect(pong?.payload == payload)
    }
  }

  @Test("the server pings a quiet peer and closes it when the ping goes unanswered")
  func keepaliveTimeout() async throws {
    let configuration = testConfiguration {
      $0.keepaliveInterval = .milliseconds(200)
      // Scaled: under a sanitizer a real client may take longer than 300 ms to answer a ping.
      $0.keepaliveTimeout = .milliseconds(300).scaled
    }
    try await withServer(configuration: configuration) { server in
      let raw = try await RawConnection.handshake(port: server.port)
      let ping = try await raw.readFrame()
      #expect(ping?.header.frameType == .ping)
      #expect(ping?.header.flags == [])
      #expect(ping?.payload.count == 8)
      let started = ContinuousClock.now
      #expect(await raw.waitForClose())
      #expect(started.duration(to: .now) < .seconds(2).scaled)

      // A real client answers pings and keeps its connection.
      let channel = server.channel()
      defer { channel.transport.close() }
      let before = try await channel.unary(TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self, options: .defaults)
      try await Task.sleep(for: .milliseconds(1200).scaled)
      let after = try await channel.unary(TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self, options: .defaults)
      #expect(before.domain == after.domain, "same client address: the connection survived")
    }
  }

  @Test("an idle connection gets GOAWAY and is closed; the client reconnects")
  func idleTimeout() async throws {
    // 2 s idle timeout: long enough that consecutive calls of this test are never
    // an idle gap on a loaded CI machine (a fresh-clone run once starved the client
    // for over 1 s between two calls, when every test of the parallel suite took
    // 30-60 s), short enough to wait for. Under a sanitizer (TestTime.scale) the
    // gaps stretch, so the timeout does too.
    let idleTimeout = Duration.seconds(2).scaled
    try await withServer(configuration: testConfiguration { $0.idleTimeout = idleTimeout }) { server in
      let raw = try await RawConnection.handshake(port: server.port)
      let started = ContinuousClock.now
      let frames = try await raw.readUntilClosed()
      #expect(started.duration(to: .now) < idleTimeout * 4)
      #expect(frames.first?.goAway?.code == 0)
      #expect(frames.first?.goAway?.message == "idle timeout")

      // Retries cover the inherent race of a call sent just as the server closes an idle
      // connection (refused as CALL_NOT_PROCESSED, safe to retry).
      let channel = server.channel(retryPolicy: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10)))
      defer { channel.transport.close() }
      let first = try await channel.unary(TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self, options: .defaults)
      // A long call (1.5 idle timeouts) keeps the connection from being idle.
      let delayMillis = Int(3000 * TestTime.scale)
      _ = try await channel.unary(
        TestService.echo, request: HealthCheckRequest(service: "delay=\(delayMillis)"), responseType: HealthCheckRequest.self, options: .defaults)
      let second = try await channel.unary(TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self, options: .defaults)
      #expect(first.domain == second.domain)
      #expect(await eventually { server.transport.connectionCount == 0 })
      let third = try await channel.unary(TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self, options: .defaults)
      #expect(third.domain != first.domain, "a new connection after the idle close")
    }
  }

  @Test("silent and slowloris connections are closed by the handshake and frame timeouts")
  func handshakeAndFrameTimeouts() async throws {
    let configuration = testConfiguration {
      // 1 s, scaled: setting up the five connections must fit in it, which on a loaded machine or under a
      // sanitizer takes a while. The dribbler (1,000 bytes at 50 ms each) still outlasts it many times over.
      $0.handshakeTimeout = .seconds(1).scaled
      $0.frameTimeout = .seconds(1).scaled
    }
    try await withServer(configuration: configuration) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let silent = try await RawConnection.connect(port: server.port)
      let halfPreface = try await RawConnection.connect(port: server.port)
      try await halfPreface.send([0x47, 0x41])
      let halfHeader = try await RawConnection.handshake(port: server.port)
      try await halfHeader.send([0, 0, 0])
      let headersOnly = try await RawConnection.handshake(port: server.port)
      try await headersOnly.send(Frames.headers(1, TestService.echo.path))
      let dribble = try await RawConnection.handshake(port: server.port)
      let started = ContinuousClock.now
      let dribbling = Task {
        // One byte every 50 ms of a 1,000-byte message: progress, but too slow.
        try? await dribble.send(Frames.headers(1, TestService.echo.path))
        var header: [UInt8] = []
        FrameHeader(length: 1000, type: .message, flags: .endStream, callID: 1).encode(into: &header)
        for byte in header + [UInt8](repeating: 0, count: 1000) {
          guard (try? await dribble.send([byte])) != nil else { return }
          try? await Task.sleep(for: .milliseconds(50))
        }
      }
      for (name, raw) in [("silent", silent), ("half preface", halfPreface), ("half header", halfHeader), ("headers only", headersOnly), ("dribble", dribble)] {
        let frames = try await raw.readUntilClosed()
        #expect(frames.last?.goAway != nil, "\(name)")
        try await BackPressureTests.expectServed(channel)
      }
      // The dribbler alone would hold its connection for 50 s; closing all five well before shows the timeouts.
      #expect(started.duration(to: .now) < .seconds(10).scaled)
      dribbling.cancel()
      #expect(await eventually { server.transport.connectionCount == 1 })
    }
  }

  @Test("connections over the limit get GOAWAY RESOURCE_EXHAUSTED")
  func connectionLimit() async throws {
    try await withServer(configuration: testConfiguration { $0.maxConnections = 2 }) { server in
      let first = try await RawConnection.handshake(port: server.port)
      let second = try await RawConnection.handshake(port: server.port)
      #expect(await eventually { server.transport.connectionCount == 2 })
      for _ in 0..<3 {
        let extra = try await RawConnection.handshake(port: server.port)
        let frames = try await extra.readUntilClosed()
        #expect(frames.count == 1)
        #expect(frames.first?.goAway?.code == StatusCode.resourceExhausted.rawValue)
        #expect(frames.first?.goAway?.lastCallID == 0)
      }
      // A real client is told UNAVAILABLE (not processed: safe to retry).
      let channel = server.channel()
      let error = await #expect(throws: RPCError.self) {
        _ = try await channel.unary(TestService.echo, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
      }
      #expect(error?.code == .unavailable)
      #expect(error?.reason == .callNotProcessed)
      channel.transport.close()
      // Room again once one leaves.
      first.closeNow()
      #expect(await eventually { server.transport.connectionCount == 1 })
      let again = server.channel()
      defer { again.transport.close() }
      _ = try await again.unary(TestService.echo, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
      _ = second
    }
  }
}
