#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value of a JOSE header, a token's claims or a provider document.
enum JOSEValue: Sendable, Decodable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JOSEValue])
  case object([String: JOSEValue])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let bool = try? container.decode(Bool.self) {
      self = .bool(bool)
    } else if let number = try? container.decode(Double.self) {
      self = .number(number)
    } else if let string = try? container.decode(String.self) {
      self = .string(string)
    } else if let array = try? container.decode([JOSEValue].self) {
      self = .array(array)
    } else {
      self = .object(try container.decode([String: JOSEValue].self))
    }
  }

  /// Parses a JSON document.
  static func parse(_ bytes: [UInt8]) throws -> JOSEValue {
    try JSONDecoder().decode(JOSEValue.self, from: Data(bytes))
  }

  /// The member `key` of an object.
  subscript(key: String) -> JOSEValue? {
    if case .object(let members) = self { return members[key] }
    return nil
  }

  /// The string, if this is one.
  var string: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  /// The number, if this is one.
  var number: Double? {
    if case .number(let value) = self { return value }
    return nil
  }

  /// The strings of a string or of an array of strings (`aud`).
  var strings: [String]? {
    switch self {
    case .string(let text): [text]
    case .array(let items): items.allSatisfy { $0.string != nil } ? items.compactMap(\.string) : nil
    default: nil
    }
  }
}
