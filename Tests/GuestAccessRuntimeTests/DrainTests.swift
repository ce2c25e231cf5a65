import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessServer
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The drain (graceful shutdown) against a live server: what each call and
/// each connection gets (docs/PROTOCOL.md §10).
@Suite("Drain", .serialized)
struct DrainTests {
  @Test("calls pipelined before a drain all finish; the GOAWAY comes before any refusal", arguments: [100, 200, 300, 400])
  func pipelinedCallsFinish(count: Int) async throws {
    let service = TestService()
    let health = HealthService()
    let transport = TCPServerTransport(configuration: testConfiguration())
    let server = RPCServer(transports: [transport], services: [service, health])
    let serving = Task { try await server.serve() }
    defer { server.stop() }
    let port = try await transport.listeningPort()
    let raw = try await RawConnection.handshake(port: port)
    // Each call's HEADERS and MESSAGE in one write; half are health checks, half echoes.
    let calls = (1...UInt32(count)).map { id in
      id % 2 == 0
        ? Frames.call(id, Health.Method.check, HealthCheckRequest(service: ""))
        : Frames.call(id, TestService.echo, HealthCheckRequest(service: "delay=5;key=p\(id)"))
    }
    try await raw.sendEach(calls)
    health.enterDraining()
    server.beginGracefulShutdown()
    let frames = try await raw.readUntilClosed()
    try await serving.value
    let goAwayIndex = try #require(frames.firstIndex { $0.header.frameType == .goAway }, "no GOAWAY")
    let last = try #require(frames[goAwayIndex].goAway).lastCallID
    var ended: [UInt32: Trailers] = [:]
    for (index, frame) in frames.enumerated() where frame.header.frameType == .trailers {
      let trailers = frame.trailers ?? Trailers()
      ended[frame.header.callID] = trailers
      if index < goAwayIndex {
        #expect(trailers.code == 0, "call \(frame.header.callID) refused before the GOAWAY: \(trailers.message)")
      }
    }
    for id in 1...UInt32(count) {
      if id <= last {
        #expect(ended[id]?.code == 0, "call \(id) ≤ last_call_id \(last) ended with \(ended[id].map { "\($0.code) \($0.message)" } ?? "nothing")")
      } else if let trailers = ended[id] {
        #expect(trailers.code == StatusCode.unavailable.rawValue, "call \(id) > last_call_id: \(trailers.code)")
      }
    }
  }

  @Test("an open Health.Watch gets NOT_SERVING and ends: the drain does not wait for it", .timeLimit(.minutes(1)))
  func watchEndsInDrain() async throws {
    let health = HealthService()
    let transport = TCPServerTransport(configuration: testConfiguration())
    let server = RPCServer(transports: [transport], services: [health])
    let serving = Task { try await server.serve() }
    defer { server.stop() }
    let port = try await transport.listeningPort()
    let channel = RPCChannel(transport: TCPClientTransport(host: "127.0.0.1", port: port, connections: 1, connectTimeout: .seconds(2)), retryPolicy: .none)
    defer { channel.transport.close() }
    let client = Health.Client(channel: channel)
    let first = AsyncStream<Void>.makeStream()
    let watching = Task {
      try await client.watch(HealthCheckRequest(service: "")) { stream in
        var seen: [ServingStatus] = []
        for try await response in stream {
          seen.append(response.status)
          if seen.count == 1 { first.continuation.yield() }
        }
        return seen
      }
    }
    var iterator = first.stream.makeAsyncIterator()
    _ = await iterator.next()
    let started = ContinuousClock.now
    health.enterDraining()
    server.beginGracefulShutdown()
    let seen = try await watching.value
    #expect(seen == [.serving, .notServing])
    try await serving.value
    #expect(started.duration(to: .now) < .seconds(2).scaled, "the drain waited for the Watch")
  }

  @Test("a new connection during a drain is refused by the operating system")
  func connectDuringDrain() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let busy = try await RawConnection.handshake(port: server.port)
      try await busy.send(Frames.call(1, TestService.echo, HealthCheckRequest(service: "delay=1000;key=busy")))
      #expect(await service.probe.wait(for: "started:busy"))
      server.server.beginGracefulShutdown()
      // The drain goes on (call 1 runs for a second); the listening socket is closed.
      var refused = false
      for _ in 0..<100 where !refused {
        do {
          let late = try await RawConnection.connect(port: server.port)
          late.reset()
          try await Task.sleep(for: .milliseconds(5))
        } catch RawError.connect(let error) {
          #expect(error == ECONNREFUSED)
          refused = true
        }
      }
      #expect(refused)
      // The call in flight still finishes.
      let frames = try await busy.readUntilClosed()
      #expect(frames.contains { $0.header.callID == 1 && $0.trailers?.code == 0 })
    }
  }
}
