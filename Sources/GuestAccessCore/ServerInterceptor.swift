/// Runs around every call a server handles (authentication, logging, metrics).
///
/// An interceptor may read and change the context, refuse the call by
/// throwing (an `RPCError` becomes the call's status), or observe how `next`
/// ends.
public protocol ServerInterceptor: Sendable {
  /// Intercepts one call; call `next` to continue to the next interceptor and the handler.
  func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws
}

/// Runs around every call a client makes.
public protocol ClientInterceptor: Sendable {
  /// Intercepts one call attempt; call `next` to send it.
  func intercept(
    method: MethodDescriptor, options: CallOptions, next: @Sendable (CallOptions) async throws -> Void
  ) async throws
}
