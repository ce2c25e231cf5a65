/// A value bound to a statement parameter.
public enum SQLiteValue: Hashable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
  /// NULL.
  case null
  /// A 64-bit integer.
  case integer(Int64)
  /// A double.
  case real(Double)
  /// UTF-8 text.
  case text(String)
  /// Bytes.
  case blob([UInt8])

  public init(stringLiteral value: String) { self = .text(value) }
  public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension SQLiteValue {
  /// An integer value from any integer.
  public static func int<T: BinaryInteger>(_ value: T) -> SQLiteValue { .integer(Int64(value)) }
  /// A boolean as 0 or 1.
  public static func bool(_ value: Bool) -> SQLiteValue { .integer(value ? 1 : 0) }
}
