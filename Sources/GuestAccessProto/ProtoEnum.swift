/// A protobuf enum of the `guestaccess.v1` schema as a Swift enum.
///
/// Enums are open (proto3): a number the schema does not declare survives
/// decoding and re-encoding as `.unrecognized(number)`. Generated enums
/// conform to it.
public protocol ProtoEnum: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Every value the schema declares, in declaration order.
  static var knownCases: [Self] { get }

  /// Creates the value for a wire number; unknown numbers become `.unrecognized`.
  init(rawValue: Int32)

  /// The wire number.
  var rawValue: Int32 { get }

  /// The name declared in the schema (for example `USER_TYPE_GUEST`), or the
  /// number as text for an unrecognized value.
  var protoName: String { get }

  /// Parses a schema name, with or without its prefix, case-insensitively, or
  /// a decimal wire number; `nil` for anything else.
  init?(protoName: String)
}
