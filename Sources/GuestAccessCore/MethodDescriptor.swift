/// Identifies one method of one service.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
  /// Whether a method answers with one message or a stream.
  public enum Kind: Hashable, Sendable {
    /// One request, one response.
    case unary
    /// One request, a stream of responses.
    case serverStreaming
  }

  /// The fully qualified service name, e.g. `guestaccess.v1.Health`.
  public let service: String
  /// The method name, e.g. `Check`.
  public let method: String
  /// Unary or server streaming.
  public let kind: Kind
  /// Whether repeating the call has no additional effect (safe to retry).
  public let idempotent: Bool
  /// The path on the wire, `/service/method` (built once: it is read on every call).
  public let path: String

  /// Creates a descriptor.
  public init(service: String, method: String, kind: Kind = .unary, idempotent: Bool = false) {
    self.service = service
    self.method = method
    self.kind = kind
    self.idempotent = idempotent
    path = "/\(service)/\(method)"
  }

  public var description: String { path }
}
