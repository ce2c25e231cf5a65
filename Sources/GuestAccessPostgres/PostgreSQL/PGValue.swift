import GuestAccessStorage

/// A parameter of a statement; integers and text travel as text, bytes as binary.
public enum PGValue: Hashable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
  /// NULL.
  case null
  /// A 64-bit integer (`bigint`).
  case integer(Int64)
  /// UTF-8 text.
  case text(String)
  /// Bytes (`bytea`).
  case blob([UInt8])

  public init(stringLiteral value: String) { self = .text(value) }

  /// The same value as the SQLite store binds it (the shared `DirectoryQuery` builds those).
  public init(_ value: SQLiteValue) {
    switch value {
    case .null: self = .null
    case .integer(let number): self = .integer(number)
    case .real(let number): self = .text(String(number))
    case .text(let text): self = .text(text)
    case .blob(let bytes): self = .blob(bytes)
    }
  }
  public init(integerLiteral value: Int64) { self = .integer(value) }

  /// An integer value from any integer.
  public static func int<T: BinaryInteger>(_ value: T) -> PGValue { .integer(Int64(value)) }
  /// A boolean as 0 or 1 (stored in `bigint` columns, as in the SQLite schema).
  public static func bool(_ value: Bool) -> PGValue { .integer(value ? 1 : 0) }

  /// The parameter's type OID (0: let the server infer it).
  var typeOID: UInt32 {
    switch self {
    case .null: return 0
    case .integer: return 20  // int8
    case .text: return 25  // text
    case .blob: return 17  // bytea
    }
  }

  /// The wire bytes and format (0 text, 1 binary); nil bytes for NULL.
  var wire: (bytes: [UInt8]?, format: Int32) {
    switch self {
    case .null: return (nil, 0)
    case .integer(let number): return (Array(String(number).utf8), 0)
    case .text(let text): return (Array(text.utf8), 0)
    case .blob(let bytes): return (bytes, 1)
    }
  }
}
