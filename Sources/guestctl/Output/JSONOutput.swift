import ArgumentParser
import Foundation
import GuestAccessJSON

/// JSON printing and `--field` extraction.
enum JSONOutput {
  /// `value` as pretty-printed JSON with sorted keys.
  static func pretty<T: Encodable>(_ value: T) -> String {
    encode(value, formatting: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
  }

  /// `value` as JSON on one line (for streams: one object per line).
  static func compact<T: Encodable>(_ value: T) -> String {
    encode(value, formatting: [.sortedKeys, .withoutEscapingSlashes])
  }

  private static func encode<T: Encodable>(_ value: T, formatting: JSONEncoder.OutputFormatting) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = formatting
    return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
  }

  /// The field at `path` (dot separated; names match in snake_case or
  /// camelCase; numbers index lists) as plain text: strings bare, lists of
  /// scalars one per line, anything else as JSON.
  static func field<T: Encodable>(_ path: String, of value: T) throws -> String {
    var current = try JSONDecoder().decode(JSONValue.self, from: Data(compact(value).utf8))
    for component in path.split(separator: ".").map(String.init) {
      if case .object(let object) = current, let match = object.first(where: { normalized($0.key) == normalized(component) }) {
        current = match.value
      } else if case .array(let array) = current, let index = Int(component), array.indices.contains(index) {
        current = array[index]
      } else {
        throw failure("the result has no field \"\(path)\"")
      }
    }
    if let text = current.scalarText { return text }
    if case .array(let items) = current {
      let texts = items.compactMap(\.scalarText)
      if texts.count == items.count { return texts.joined(separator: "\n") }
    }
    return pretty(current)
  }

  private static func normalized(_ name: String) -> String {
    name.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "")
  }
}
