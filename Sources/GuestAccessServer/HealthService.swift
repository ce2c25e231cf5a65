import GuestAccessAPI
import GuestAccessServerAPI
import GuestAccessCore
import GuestAccessLocks

/// The Health service with grpc.health.v1 semantics: the server sets a status
/// per service name ("" is the whole server); Check answers it, Watch streams
/// it now and on every change. In a drain every status becomes NOT_SERVING
/// and each Watch stream ends after sending it (TRAILERS OK), so an open
/// Watch does not hold the shutdown; a Watch started during the drain gets
/// its status and ends the same way.
public final class HealthService: Health.ServiceProtocol, Sendable {
  private struct State {
    var statuses: [String: ServingStatus] = [:]
    var watchers: [UInt64: (service: String, continuation: AsyncStream<ServingStatus>.Continuation)] = [:]
    var nextWatcher: UInt64 = 0
    var draining = false
  }

  private let state = LockedValue(State())

  /// Creates the service with the whole server ("") SERVING.
  public init() {
    state.withLock { $0.statuses[""] = .serving }
  }

  /// Sets the status of `service` ("" for the whole server) and notifies watchers.
  public func setStatus(_ status: ServingStatus, for service: String = "") {
    let targets = state.withLock { state -> [AsyncStream<ServingStatus>.Continuation] in
      guard state.statuses[service] != status else { return [] }
      state.statuses[service] = status
      return state.watchers.values.filter { $0.service == service }.map(\.continuation)
    }
    for continuation in targets { continuation.yield(status) }
  }

  /// Sets every known service, and the server, to NOT_SERVING (the first step of a drain).
  /// Watch streams then end.
  public func enterDraining() {
    let services = state.withLock { Array($0.statuses.keys) }
    for service in services { setStatus(.notServing, for: service) }
    let watchers = state.withLock { state -> [AsyncStream<ServingStatus>.Continuation] in
      state.draining = true
      return state.watchers.values.map(\.continuation)
    }
    // Each stream delivers the NOT_SERVING it holds, then ends.
    for continuation in watchers { continuation.finish() }
  }

  /// The current status of `service`, if known.
  public func status(of service: String) -> ServingStatus? {
    state.withLock { $0.statuses[service] }
  }

  /// Registers Check as a synchronous handler (it reads one status under a
  /// lock, so it can be served without a task; see `RPCRouter.registerSynchronousUnary`)
  /// and Watch as the generated code does.
  public func registerMethods(with router: inout RPCRouter) {
    router.registerSynchronousUnary(Health.Method.check, requestType: HealthCheckRequest.self) { request, _ in
      try self.checkNow(request)
    }
    router.registerServerStreaming(Health.Method.watch, requestType: HealthCheckRequest.self) { request, writer, context in
      try await self.watch(request: request, response: writer, context: context)
    }
  }

  public func check(request: HealthCheckRequest, context: ServerContext) async throws -> HealthCheckResponse {
    try checkNow(request)
  }

  private func checkNow(_ request: HealthCheckRequest) throws -> HealthCheckResponse {
    guard let status = status(of: request.service) else {
      throw RPCError(code: .notFound, message: "unknown service \(request.service.prefix(200))")
    }
    return HealthCheckResponse(status: status)
  }

  public func watch(request: HealthCheckRequest, response: RPCWriter<HealthCheckResponse>, context: ServerContext) async throws {
    let (stream, continuation) = AsyncStream<ServingStatus>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let id = state.withLock { state -> UInt64 in
      state.nextWatcher += 1
      state.watchers[state.nextWatcher] = (request.service, continuation)
      continuation.yield(state.statuses[request.service] ?? .serviceUnknown)
      if state.draining { continuation.finish() }
      return state.nextWatcher
    }
    defer { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }
    try await withTaskCancellationHandler {
      for await status in stream {
        try await response.write(HealthCheckResponse(status: status))
      }
    } onCancel: {
      continuation.finish()
    }
    // The stream ends on cancellation or in a drain; only the drain ends the call normally.
    try Task.checkCancellation()
  }
}
