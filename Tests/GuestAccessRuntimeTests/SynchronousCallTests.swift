import GuestAccessCore
import GuestAccessProto
import GuestAccessTransport
import Testing

/// A synchronous handler that answers SERVING when it runs without a task
/// (inline on the connection's loop) and NOT_SERVING inside one; `fail` in
/// the request's service field makes it throw.
private struct TaskProbeService: RegistrableRPCService {
  static let check = MethodDescriptor(service: "test.Sync", method: "Check", idempotent: true)

  func registerMethods(with router: inout RPCRouter) {
    router.registerSynchronousUnary(Self.check, requestType: HealthCheckRequest.self) { request, _ in
      if request.service == "fail" { throw RPCError(code: .failedPrecondition, message: "asked to fail") }
      let inTask = withUnsafeCurrentTask { $0 != nil }
      return HealthCheckResponse(status: inTask ? .notServing : .serving)
    }
  }
}

/// Counts the calls it sees on each path; refuses the synchronous path when
/// `allowSynchronous` is false, and fails calls whose metadata has `x-refuse`.
private final class CountingInterceptor: SynchronousServerInterceptor {
  let allowSynchronous: Bool
  let counts = Locked<[String]>([])

  init(allowSynchronous: Bool) {
    self.allowSynchronous = allowSynchronous
  }

  func allowsSynchronousCall(_ context: ServerContext) -> Bool { allowSynchronous }

  func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
    counts.withLock { $0.append("async") }
    if context.metadata["x-refuse"] != nil { throw RPCError(code: .permissionDenied, message: "refused") }
    try await next(context)
  }

  func interceptSynchronously(context: ServerContext, next: (ServerContext) throws -> Void) throws {
    counts.withLock { $0.append("sync") }
    if context.metadata["x-refuse"] != nil { throw RPCError(code: .permissionDenied, message: "refused") }
    try next(context)
  }
}

/// An interceptor with only the asynchronous form.
private struct AsyncOnlyInterceptor: ServerInterceptor {
  func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
    try await next(context)
  }
}

@Suite("Synchronous handlers")
struct SynchronousCallTests {
  /// The error a call failed with (nil when it answered).
  private func refusal(_ call: () async throws -> ServingStatus) async -> RPCError? {
    do {
      let status = try await call()
      Issue.record("answered \(status)")
      return nil
    } catch {
      return error as? RPCError
    }
  }

  private func check(_ server: TestServer, _ request: HealthCheckRequest = HealthCheckRequest(), metadata: Metadata = [:]) async throws
    -> ServingStatus
  {
    let channel = server.channel()
    defer { channel.transport.close() }
    var options = CallOptions.defaults
    options.metadata = metadata
    return try await channel.unary(TaskProbeService.check, request: request, responseType: HealthCheckResponse.self, options: options).status
  }

  @Test("a synchronous handler runs without a task when every interceptor can run synchronously")
  func inline() async throws {
    let interceptor = CountingInterceptor(allowSynchronous: true)
    try await withServer(services: [TaskProbeService()], interceptors: [interceptor]) { server in
      let status = try await check(server)
      #expect(status == .serving)
      #expect(interceptor.counts.value == ["sync"])
      // Errors keep their status on this path, from the handler and from an interceptor.
      let failed = await refusal { try await check(server, HealthCheckRequest(service: "fail")) }
      #expect(failed?.code == .failedPrecondition && failed?.message == "asked to fail")
      let refused = await refusal { try await check(server, metadata: ["x-refuse": "1"]) }
      #expect(refused?.code == .permissionDenied)
      #expect(interceptor.counts.value == ["sync", "sync", "sync"])
    }
  }

  @Test("it runs as a task when an interceptor declines the synchronous path or has none, with the same result")
  func fallsBack() async throws {
    let declining = CountingInterceptor(allowSynchronous: false)
    try await withServer(services: [TaskProbeService()], interceptors: [declining]) { server in
      let status = try await check(server)
      #expect(status == .notServing)
      let refused = await refusal { try await check(server, metadata: ["x-refuse": "1"]) }
      #expect(refused?.code == .permissionDenied)
      #expect(declining.counts.value == ["async", "async"])
    }
    let counting = CountingInterceptor(allowSynchronous: true)
    try await withServer(services: [TaskProbeService()], interceptors: [counting, AsyncOnlyInterceptor()]) { server in
      let status = try await check(server)
      #expect(status == .notServing)
      #expect(counting.counts.value == ["async"])
    }
  }
}
