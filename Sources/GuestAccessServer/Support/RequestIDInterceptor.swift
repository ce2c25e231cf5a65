import GuestAccessCore
import Synchronization

/// Gives every call a request id, kept in the context (`ServerContext.requestID`)
/// and written on each audit event the call causes: the caller's
/// `x-request-id` (or `request-id`) metadata when it is 1 to 128 printable
/// ASCII characters (a longer one is cut to 128), else one the server makes
/// (`req_` and 32 hex digits). A made id is made when the call first asks
/// for it: most calls (Health, reads) write no audit event, and making one
/// draws random bytes from the kernel.
public struct RequestIDInterceptor: SynchronousServerInterceptor {
  /// Characters a caller's request id keeps at most.
  public static let maxLength = 128

  /// Creates the interceptor.
  public init() {}

  public func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
    try await next(Self.identified(context))
  }

  public func interceptSynchronously(context: ServerContext, next: (ServerContext) throws -> Void) throws {
    try next(Self.identified(context))
  }

  private static func identified(_ context: ServerContext) -> ServerContext {
    var context = context
    context[RequestIDKey.self] = RequestID(sent: context.metadata["x-request-id"] ?? context.metadata["request-id"])
    return context
  }

  /// The caller's id when usable, else a new one.
  static func requestID(_ sent: String?) -> String {
    if let sent, !sent.isEmpty, sent.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
      return String(sent.prefix(maxLength))
    }
    return Secrets.newID(prefix: "req_")
  }
}

/// One call's request id: the caller's, or one made on first use and the
/// same on every later use.
public final class RequestID: Sendable {
  private let sent: String?
  private let made = Mutex<String?>(nil)

  init(sent: String?) {
    self.sent = sent
  }

  /// The id.
  public var value: String {
    made.withLock { made in
      if let made { return made }
      let id = RequestIDInterceptor.requestID(sent)
      made = id
      return id
    }
  }
}

/// The context key of the call's request id.
public enum RequestIDKey: ServerContextKey {
  public typealias Value = RequestID
}

extension ServerContext {
  /// The call's request id (set by `RequestIDInterceptor`; a new one when it did not run).
  public var requestID: String {
    self[RequestIDKey.self]?.value ?? RequestIDInterceptor.requestID(metadata["x-request-id"] ?? metadata["request-id"])
  }
}
