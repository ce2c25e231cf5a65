/// Why bytes could not be decoded as a protobuf message.
public struct ProtoDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The message type that was being decoded.
  public var messageName: String
  /// The length of the input in bytes.
  public var length: Int
  /// What went wrong.
  public var reason: String
  /// The bytes were well-formed protobuf, but a `string` field held a NUL
  /// byte, which the C codecs cannot represent.
  public var isNULInString: Bool

  /// Creates an error for `messageName`.
  public init(messageName: String, length: Int, reason: String, isNULInString: Bool = false) {
    self.messageName = messageName
    self.length = length
    self.reason = reason
    self.isNULInString = isNULInString
  }

  public var description: String {
    "cannot decode \(messageName) from \(length) bytes: \(reason)"
  }
}
