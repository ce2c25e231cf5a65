/// An interceptor that can also run around a handler that never suspends,
/// on the transport's own thread, without a task.
///
/// `RPCServer` takes this path for a call when its handler was registered
/// synchronous (`RPCRouter.registerSynchronousUnary`), every interceptor of
/// the server conforms, and each one's `allowsSynchronousCall` accepts the
/// call; otherwise the call runs as a task through `intercept(context:next:)`.
/// Both forms must have the same effect: the synchronous one exists only
/// because a task, its allocation and its executor hops cost more than a
/// call such as Health.Check itself.
public protocol SynchronousServerInterceptor: ServerInterceptor {
  /// Whether this call can pass without suspending (for example, it needs
  /// no database read). Decided before any interceptor runs.
  func allowsSynchronousCall(_ context: ServerContext) -> Bool

  /// Intercepts one call on the synchronous path; call `next` to continue.
  func interceptSynchronously(context: ServerContext, next: (ServerContext) throws -> Void) throws
}

extension SynchronousServerInterceptor {
  /// By default every call may take the synchronous path.
  public func allowsSynchronousCall(_ context: ServerContext) -> Bool { true }
}
