import GuestAccessClient

/// Renders any message as aligned `key  value` lines, found by reflection:
/// nested messages flatten to dotted keys (`email_delivery.status`), times
/// (`*_at`) print as ISO 8601, enums by their short names, and fields at
/// their default value (empty, 0, UNSPECIFIED) are left out. Booleans always
/// show, since `false` can matter (`account_enabled: no`).
enum DetailView {
  /// The detail lines of `value`.
  static func render(_ value: Any) -> String {
    var lines: [(String, String)] = []
    flatten(value, prefix: "", into: &lines)
    let width = lines.map(\.0.count).max() ?? 0
    return lines.map { key, text in
      key + ":" + String(repeating: " ", count: width - key.count + 2) + text
    }.joined(separator: "\n")
  }

  private static func flatten(_ value: Any, prefix: String, into lines: inout [(String, String)]) {
    for child in Mirror(reflecting: value).children {
      guard let label = child.label else { continue }
      append(child.value, key: prefix + snakeCase(label), into: &lines)
    }
  }

  private static func append(_ value: Any, key: String, into lines: inout [(String, String)]) {
    if let scalar = scalar(value, key: key) {
      if !scalar.isEmpty { lines.append((key, scalar)) }
      return
    }
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .collection {
      let elements = mirror.children.map(\.value)
      let scalars = elements.compactMap { scalar($0, key: key) }
      if scalars.count == elements.count {
        if !scalars.isEmpty { lines.append((key, scalars.joined(separator: ", "))) }
      } else {
        for (index, element) in elements.enumerated() {
          flatten(element, prefix: "\(key)[\(index)].", into: &lines)
        }
      }
      return
    }
    // A nested message at its default value (only `no` booleans) is left out.
    var nested: [(String, String)] = []
    flatten(value, prefix: key + ".", into: &nested)
    if nested.contains(where: { $0.1 != Display.yesNo(false) }) { lines += nested }
  }

  /// The text of a scalar field ("" to leave it out), or nil for messages and lists.
  private static func scalar(_ value: Any, key: String) -> String? {
    switch value {
    case let text as String: return text
    case let flag as Bool: return Display.yesNo(flag)
    case let number as Int64:
      guard number != 0 else { return "" }
      if key.hasSuffix("_at") { return Display.time(number) }
      if key.hasSuffix("_seconds") { return Display.seconds(number) }
      return String(number)
    case let number as Int32: return number == 0 ? "" : String(number)
    case let number as UInt32: return number == 0 ? "" : String(number)
    case let number as UInt64: return number == 0 ? "" : String(number)
    case let number as Int: return number == 0 ? "" : String(number)
    case let value as any ProtoEnum: return value.rawValue == 0 ? "" : Display.shortName(value)
    default: return nil
    }
  }

  /// `tenantID` → `tenant_id`, `groupIDs` → `group_ids`, `redeemURL` → `redeem_url`.
  static func snakeCase(_ name: String) -> String {
    let words = name.replacingOccurrences(of: "IDs", with: "Ids").replacingOccurrences(of: "URLs", with: "Urls")
      .replacingOccurrences(of: "ID", with: "Id").replacingOccurrences(of: "URL", with: "Url")
    var result = ""
    for character in words {
      if character.isUppercase {
        if !result.isEmpty { result += "_" }
        result += character.lowercased()
      } else {
        result.append(character)
      }
    }
    return result
  }
}
