import GuestAccessCore

/// Runs after `AuthInterceptor`: a call that carries a principal tells its
/// transport that its connection authenticated, which lifts the limits a
/// connection has before that (`TCPServerConfiguration.maxCallsBeforeAuthentication`).
/// Anonymous calls (Health, redemption) never do.
struct AuthenticatedConnectionInterceptor: SynchronousServerInterceptor {
  func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
    if context[PrincipalKey.self] != nil { context.markConnectionAuthenticated() }
    try await next(context)
  }

  func interceptSynchronously(context: ServerContext, next: (ServerContext) throws -> Void) throws {
    if context[PrincipalKey.self] != nil { context.markConnectionAuthenticated() }
    try next(context)
  }
}
