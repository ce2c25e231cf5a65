/// A peer broke the wire protocol; the connection is closed (only that one).
public struct ProtocolViolation: Error, Hashable, Sendable, CustomStringConvertible {
  /// What the peer did wrong.
  public var reason: String

  /// Creates a violation.
  public init(_ reason: String) {
    self.reason = reason
  }

  public var description: String { "protocol violation: \(reason)" }
}
