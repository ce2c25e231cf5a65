import Synchronization

/// Serves calls from one or more transports: routes each to its handler
/// through the interceptors, enforces deadlines and turns errors into status.
public final class RPCServer: ServerCallDispatcher {
  private let router: RPCRouter
  private let interceptors: [any ServerInterceptor]
  /// The same interceptors when every one can run synchronously, else nil.
  private let synchronousInterceptors: [any SynchronousServerInterceptor]?
  private let transports: [any ServerTransport]
  private let accepting = Atomic<Bool>(true)
  /// Called for every error that is not an `RPCError` (they become UNKNOWN on the wire).
  private let onUnexpectedError: @Sendable (any Error, MethodDescriptor) -> Void

  /// Creates a server for `services` on `transports`.
  public convenience init(
    transports: [any ServerTransport], services: [any RegistrableRPCService],
    interceptors: [any ServerInterceptor] = [],
    onUnexpectedError: @escaping @Sendable (any Error, MethodDescriptor) -> Void = { _, _ in }
  ) {
    self.init(transports: transports, router: RPCRouter(services: services), interceptors: interceptors, onUnexpectedError: onUnexpectedError)
  }

  /// Creates a server for the methods of `router` on `transports` (for a
  /// caller that needs the router's methods first, such as for metrics).
  public init(
    transports: [any ServerTransport], router: RPCRouter,
    interceptors: [any ServerInterceptor] = [],
    onUnexpectedError: @escaping @Sendable (any Error, MethodDescriptor) -> Void = { _, _ in }
  ) {
    self.router = router
    self.interceptors = interceptors
    let synchronous = interceptors.compactMap { $0 as? any SynchronousServerInterceptor }
    synchronousInterceptors = synchronous.count == interceptors.count ? synchronous : nil
    self.transports = transports
    self.onUnexpectedError = onUnexpectedError
  }

  /// Serves on every transport until they all stop.
  public func serve() async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
      for transport in transports {
        group.addTask { try await transport.serve(dispatcher: self) }
      }
      try await group.waitForAll()
    }
  }

  /// Stops accepting calls and drains: calls in flight finish, then `serve` returns.
  public func beginGracefulShutdown() {
    accepting.store(false, ordering: .releasing)
    for transport in transports { transport.beginGracefulShutdown() }
  }

  /// Closes every transport at once.
  public func stop() {
    accepting.store(false, ordering: .releasing)
    for transport in transports { transport.stop() }
  }

  public var isAcceptingCalls: Bool { accepting.load(ordering: .acquiring) }

  public func dispatch(_ call: ServerCall) {
    guard let route = router.route(call.path) else {
      call.responder.finish(
        message: nil,
        trailers: RPCError(code: .unimplemented, message: "method \(call.path.prefix(256)) is not implemented").trailers)
      return
    }
    if let deadline = call.deadline, deadline <= .now {
      call.responder.finish(message: nil, trailers: RPCError(code: .deadlineExceeded, message: "deadline exceeded before the call started").trailers)
      return
    }
    let context = ServerContext(
      method: route.descriptor, metadata: call.metadata, deadline: call.deadline, peer: call.peer,
      peerCertificate: call.peerCertificate, responder: call.responder)
    if case .synchronousUnary(let handler) = route.handler, let synchronous = synchronousInterceptors,
      synchronous.allSatisfy({ $0.allowsSynchronousCall(context) })
    {
      runSynchronously(call, handler, context: context, interceptors: synchronous, descriptor: route.descriptor)
      return
    }
    let timer: Task<Void, Never>? = call.responder.enforcesDeadline ? nil : call.deadline.map { deadline in
      Task {
        do {
          try await Task.sleep(until: deadline, clock: .continuous)
          call.responder.abort(RPCError(code: .deadlineExceeded, message: "deadline exceeded").trailers)
        } catch {}
      }
    }
    let task = Task(executorPreference: call.executor) {
      await self.run(call, route: route, context: context)
      timer?.cancel()
    }
    call.responder.onCancel { task.cancel() }
  }

  private func run(_ call: ServerCall, route: RPCRouter.Route, context: ServerContext) async {
    let responder = call.responder
    let request = call.request
    do {
      try call.metadata.validate()
      try await intercept(index: 0, context: context) { context in
        switch route.handler {
        case .unary(let handler):
          let response = try await handler(request, context)
          responder.finish(message: response, trailers: Trailers())
        case .synchronousUnary(let handler):
          let response = try handler(request, context)
          responder.finish(message: response, trailers: Trailers())
        case .serverStreaming(let handler):
          try await handler(request, context) { try await responder.send($0) }
          responder.finish(message: nil, trailers: Trailers())
        }
      }
    } catch {
      fail(responder, error, route.descriptor)
    }
  }

  /// Serves a call whose handler and interceptors never suspend, on the
  /// caller's thread (the connection's loop): no task, no executor hop.
  private func runSynchronously(
    _ call: ServerCall, _ handler: @Sendable ([UInt8], ServerContext) throws -> [UInt8], context: ServerContext,
    interceptors: [any SynchronousServerInterceptor], descriptor: MethodDescriptor
  ) {
    let responder = call.responder
    do {
      try call.metadata.validate()
      try Self.interceptSynchronously(index: 0, interceptors, context: context) { context in
        let response = try handler(call.request, context)
        responder.finish(message: response, trailers: Trailers())
      }
    } catch {
      fail(responder, error, descriptor)
    }
  }

  private static func interceptSynchronously(
    index: Int, _ interceptors: [any SynchronousServerInterceptor], context: ServerContext, _ final: (ServerContext) throws -> Void
  ) throws {
    if index == interceptors.count {
      try final(context)
      return
    }
    try interceptors[index].interceptSynchronously(context: context) { context in
      try interceptSynchronously(index: index + 1, interceptors, context: context, final)
    }
  }

  /// Ends a call with the status `error` maps to.
  private func fail(_ responder: any ServerCallResponder, _ error: any Error, _ descriptor: MethodDescriptor) {
    switch error {
    case let error as RPCError:
      responder.finish(message: nil, trailers: error.trailers)
    case is CancellationError:
      responder.finish(message: nil, trailers: RPCError(code: .cancelled, message: "call cancelled").trailers)
    default:
      onUnexpectedError(error, descriptor)
      responder.finish(message: nil, trailers: RPCError(code: .unknown, message: "internal error").trailers)
    }
  }

  private func intercept(
    index: Int, context: ServerContext, _ final: @escaping @Sendable (ServerContext) async throws -> Void
  ) async throws {
    if index == interceptors.count {
      try await final(context)
      return
    }
    try await interceptors[index].intercept(context: context) { context in
      try await self.intercept(index: index + 1, context: context, final)
    }
  }
}
