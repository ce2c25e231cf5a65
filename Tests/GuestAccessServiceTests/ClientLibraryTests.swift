import GuestAccessServerAPI
import GuestAccessClient
import GuestAccessCore
import GuestAccessTransport
import GuestAccessServer
import GuestAccessTestSupport
import Synchronization
import Testing

/// A Health service whose Check fails with UNAVAILABLE a given number of times,
/// and a non-idempotent method with the same behaviour, plus a slow method.
final class FlakyService: Health.ServiceProtocol, @unchecked Sendable {
  let failuresLeft: Atomic<Int>
  let attempts = Atomic<Int>(0)
  let slowStarted = Atomic<Bool>(false)
  let sawCancellation = Atomic<Bool>(false)
  static let write = MethodDescriptor(service: "test.Flaky", method: "Write", idempotent: false)
  static let slow = MethodDescriptor(service: "test.Flaky", method: "Slow", idempotent: true)

  init(failures: Int) {
    failuresLeft = Atomic(failures)
  }

  private func attempt() throws -> HealthCheckResponse {
    attempts.add(1, ordering: .relaxed)
    if failuresLeft.subtract(1, ordering: .relaxed).oldValue > 0 {
      throw RPCError(code: .unavailable, message: "try again")
    }
    return HealthCheckResponse(status: .serving)
  }

  func check(request: HealthCheckRequest, context: ServerContext) async throws -> HealthCheckResponse { try attempt() }

  func watch(request: HealthCheckRequest, response: RPCWriter<HealthCheckResponse>, context: ServerContext) async throws {
    try await response.write(try attempt())
  }

  func registerMethods(with router: inout RPCRouter) {
    router.registerUnary(Health.Method.check, requestType: HealthCheckRequest.self) { request, context in
      try await self.check(request: request, context: context)
    }
    router.registerUnary(Self.write, requestType: HealthCheckRequest.self) { _, _ in try self.attempt() }
    router.registerUnary(Self.slow, requestType: HealthCheckRequest.self) { _, _ -> HealthCheckResponse in
      self.slowStarted.store(true, ordering: .relaxed)
      do {
        try await Task.sleep(for: .seconds(5))
      } catch {
        self.sawCancellation.store(true, ordering: .relaxed)
        throw error
      }
      return HealthCheckResponse(status: .serving)
    }
  }
}

/// Runs an RPCServer with `service` on a TCP port (0 = free) until `body` returns.
func withRawServer(
  _ service: any RegistrableRPCService, port: Int = 0, _ body: (Int, RPCServer) async throws -> Void
) async throws {
  let transport = TCPServerTransport(configuration: TCPServerConfiguration(host: "127.0.0.1", port: port, loopCount: 1))
  let server = RPCServer(transports: [transport], services: [service])
  let running = Task { try await server.serve() }
  let bound = try await transport.listeningPort()
  do {
    try await body(bound, server)
  } catch {
    server.stop()
    _ = try? await running.value
    throw error
  }
  server.beginGracefulShutdown()
  _ = try? await running.value
}

@Suite("Client library")
struct ClientLibraryTests {
  @Test func retriesUnavailableForIdempotentCallsOnly() async throws {
    let service = FlakyService(failures: 2)
    try await withRawServer(service) { port, _ in
      let policy = RetryPolicy(maxAttempts: 5, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20))
      let client = GuestAccessClient(host: "127.0.0.1", port: port, retryPolicy: policy)
      defer { client.close() }
      let response = try await client.health.check(HealthCheckRequest())
      #expect(response.status == .serving)
      #expect(service.attempts.load(ordering: .relaxed) == 3)
      // A non-idempotent call is not retried.
      service.failuresLeft.store(1, ordering: .relaxed)
      service.attempts.store(0, ordering: .relaxed)
      await expectError(.unavailable) {
        try await client.channel.unary(FlakyService.write, request: HealthCheckRequest(), responseType: HealthCheckResponse.self, options: .defaults)
      }
      #expect(service.attempts.load(ordering: .relaxed) == 1)
      // ...unless the caller marks it retryable.
      service.failuresLeft.store(1, ordering: .relaxed)
      _ = try await client.channel.unary(
        FlakyService.write, request: HealthCheckRequest(), responseType: HealthCheckResponse.self, options: CallOptions(retryable: true))
      // Retries stay within the deadline.
      service.failuresLeft.store(1000, ordering: .relaxed)
      let started = ContinuousClock.now
      do {
        _ = try await client.health.check(HealthCheckRequest(), options: CallOptions(timeout: .milliseconds(100)))
        Issue.record("expected a failure")
      } catch let error as RPCError {
        // The last attempt's UNAVAILABLE, or DEADLINE_EXCEEDED when the deadline ran out during an attempt.
        #expect([.unavailable, .deadlineExceeded].contains(error.code), "\(error)")
      }
      // Well under what 1,000 retries with backoff would take; loose enough for a
      // suite that runs browser and load tests beside it on 2 cores.
      #expect(started.duration(to: .now) < .seconds(2).scaled)
    }
  }

  @Test func deadlineEndsTheCallAndCancelsTheHandler() async throws {
    let service = FlakyService(failures: 0)
    try await withRawServer(service) { port, _ in
      let client = GuestAccessClient(host: "127.0.0.1", port: port)
      defer { client.close() }
      // Connected first, so that the deadline is spent on the call itself. It must
      // let the handler start (the server refuses a call whose deadline passed on
      // arrival), hence stretched under sanitizers; it stays far below the
      // handler's 5 s.
      _ = try await client.health.check(HealthCheckRequest())
      let started = ContinuousClock.now
      await expectError(.deadlineExceeded) {
        try await client.channel.unary(
          FlakyService.slow, request: HealthCheckRequest(), responseType: HealthCheckResponse.self,
          options: CallOptions(timeout: .milliseconds(150).scaled))
      }
      #expect(started.duration(to: .now) < .seconds(2).scaled)
      // Stops at the first sight of the cancellation; the ceiling leaves room for a loaded machine.
      let waitUntil = ContinuousClock.now + .seconds(5).scaled
      while !service.sawCancellation.load(ordering: .relaxed) && ContinuousClock.now < waitUntil {
        try await Task.sleep(for: .milliseconds(10))
      }
      let cancelled = service.sawCancellation.load(ordering: .relaxed)
      #expect(cancelled, "handler started: \(service.slowStarted.load(ordering: .relaxed))")
      // The connection is still good.
      #expect(try await client.health.check(HealthCheckRequest()).status == .serving)
    }
  }

  @Test func goAwaySendsNewCallsToAFreshConnection() async throws {
    let first = FlakyService(failures: 0)
    let client: GuestAccessClient
    var port = 0
    do {
      var captured: GuestAccessClient?
      try await withRawServer(first) { bound, _ in
        port = bound
        let made = GuestAccessClient(host: "127.0.0.1", port: bound, retryPolicy: RetryPolicy(maxAttempts: 10, initialBackoff: .milliseconds(20)))
        _ = try await made.health.check(HealthCheckRequest())
        captured = made
      }
      client = captured!
    }
    defer { client.close() }
    // The first server drained (GOAWAY) and is gone; a new one takes the port.
    let second = FlakyService(failures: 0)
    try await withRawServer(second, port: port) { _, _ in
      let response = try await client.health.check(HealthCheckRequest())
      #expect(response.status == .serving)
      #expect(second.attempts.load(ordering: .relaxed) >= 1)
    }
  }
}
