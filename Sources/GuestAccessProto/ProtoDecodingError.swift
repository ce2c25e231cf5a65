/// Why bytes could not be decoded as a protobuf message.
public struct ProtoDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The message type that was being decoded.
  public var messageName: String
  /// The length of the input in bytes.
  public var length: Int
  /// What went wrong.
  public var reason: String

  /// Creates an error for `messageName`.
  public init(messageName: String, length: Int, reason: String) {
    self.messageName = messageName
    self.length = length
    self.reason = reason
  }

  public var description: String {
    "cannot decode \(messageName) from \(length) bytes: \(reason)"
  }
}
