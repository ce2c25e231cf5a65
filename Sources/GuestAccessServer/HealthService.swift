import GuestAccessAPI
import GuestAccessServerAPI
import GuestAccessCore
import GuestAccessLocks
import Synchronization

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
  /// The whole server's status (service ""), mirrored from `state` for the
  /// Check that names no service: most probes, and every load test.
  private let serverStatus = Atomic<Int32>(ServingStatus.unknown.rawValue)
  /// Each status's encoded Check response, made once.
  private static let encodedResponses: [Int32: [UInt8]] = Dictionary(
    uniqueKeysWithValues: ServingStatus.knownCases.map {
      ($0.rawValue, HealthCheckResponse(status: $0).serializedBytes())
    })

  /// Creates the service with the whole server ("") SERVING.
  public init() {
    state.withLock { $0.statuses[""] = .serving }
    serverStatus.store(ServingStatus.serving.rawValue, ordering: .relaxed)
  }

  /// Sets the status of `service` ("" for the whole server) and notifies watchers.
  public func setStatus(_ status: ServingStatus, for service: String = "") {
    let targets = state.withLock { state -> [AsyncStream<ServingStatus>.Continuation] in
      guard state.statuses[service] != status else { return [] }
      state.statuses[service] = status
      if service.isEmpty { serverStatus.store(status.rawValue, ordering: .relaxed) }
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

  /// Registers Check as a synchronous handler (it reads one status, so it
  /// can be served without a task; see `RPCRouter.registerSynchronousUnary`)
  /// that answers with the status's response encoded once, and Watch as the
  /// generated code does.
  public func registerMethods(with router: inout RPCRouter) {
    router.register(Health.Method.check, handler: .synchronousUnary { bytes, _ in try self.checkEncoded(bytes) })
    router.registerServerStreaming(Health.Method.watch, requestType: HealthCheckRequest.self) { request, writer, context in
      try await self.watch(request: request, response: writer, context: context)
    }
  }

  /// Check on encoded messages. An empty request is the one that names no
  /// service (protobuf encodes a message of default values as no bytes).
  func checkEncoded(_ request: [UInt8]) throws -> [UInt8] {
    let status: ServingStatus
    if request.isEmpty {
      status = ServingStatus(rawValue: serverStatus.load(ordering: .relaxed))
    } else {
      status = try checkNow(RPCRouter.decode(HealthCheckRequest.self, request)).status
    }
    return Self.encodedResponses[status.rawValue] ?? HealthCheckResponse(status: status).serializedBytes()
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
