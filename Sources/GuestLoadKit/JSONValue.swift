import Foundation

/// A parsed JSON value: what `-d`, `-D`, `-m` and `--tags` hold before they
/// become a request message or metadata.
public enum JSONValue: Sendable, Hashable, Decodable {
  case null
  case bool(Bool)
  case integer(Int64)
  case unsigned(UInt64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let bool = try? container.decode(Bool.self) {
      self = .bool(bool)
    } else if let integer = try? container.decode(Int64.self) {
      self = .integer(integer)
    } else if let unsigned = try? container.decode(UInt64.self) {
      self = .unsigned(unsigned)
    } else if let double = try? container.decode(Double.self) {
      self = .double(double)
    } else if let string = try? container.decode(String.self) {
      self = .string(string)
    } else if let array = try? container.decode([JSONValue].self) {
      self = .array(array)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  /// Parses JSON text.
  /// - Throws: `LoadSetupError.invalidJSON` naming `what` (e.g. `-d`).
  public static func parse(_ text: String, what: String) throws -> JSONValue {
    do {
      return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    } catch {
      // JSONSerialization says where the text goes wrong; JSONDecoder only that it does.
      var detail = Self.describe(error)
      do {
        _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
      } catch let parse as NSError {
        if let position = parse.userInfo[NSDebugDescriptionErrorKey] as? String { detail = position }
      }
      throw LoadSetupError.invalidJSON(what: what, detail: detail)
    }
  }

  /// A short description of a JSON parse error.
  static func describe(_ error: any Error) -> String {
    if case DecodingError.dataCorrupted(let context) = error {
      if let underlying = context.underlyingError { return "\(underlying.localizedDescription)" }
      return context.debugDescription
    }
    return "\(error)"
  }

  /// The name of the value's JSON type, for error messages.
  var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .integer, .unsigned, .double: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }

  /// The value as text for metadata: strings bare, numbers and booleans printed.
  public var metadataText: String? {
    switch self {
    case .string(let text): text
    case .bool(let value): value ? "true" : "false"
    case .integer(let value): String(value)
    case .unsigned(let value): String(value)
    case .double(let value): String(value)
    case .null, .array, .object: nil
    }
  }
}
