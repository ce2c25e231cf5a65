import GuestAccessCore

/// Gives every call a request id, kept in the context (`ServerContext.requestID`)
/// and written on each audit event the call causes: the caller's
/// `x-request-id` (or `request-id`) metadata when it is 1 to 128 printable
/// ASCII characters (a longer one is cut to 128), else one the server makes
/// (`req_` and 32 hex digits).
public struct RequestIDInterceptor: ServerInterceptor {
  /// Characters a caller's request id keeps at most.
  public static let maxLength = 128

  /// Creates the interceptor.
  public init() {}

  public func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
    var context = context
    context[RequestIDKey.self] = Self.requestID(context.metadata["x-request-id"] ?? context.metadata["request-id"])
    try await next(context)
  }

  /// The caller's id when usable, else a new one.
  static func requestID(_ sent: String?) -> String {
    if let sent, !sent.isEmpty, sent.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
      return String(sent.prefix(maxLength))
    }
    return Secrets.newID(prefix: "req_")
  }
}

/// The context key of the call's request id.
public enum RequestIDKey: ServerContextKey {
  public typealias Value = String
}

extension ServerContext {
  /// The call's request id (set by `RequestIDInterceptor`; a new one when it did not run).
  public var requestID: String {
    self[RequestIDKey.self] ?? RequestIDInterceptor.requestID(metadata["x-request-id"] ?? metadata["request-id"])
  }
}
