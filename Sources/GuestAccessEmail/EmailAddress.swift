/// A mailbox: an address with an optional display name.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
  /// The display name ("" for none).
  public var name: String
  /// The address (`local@domain`, ASCII).
  public var address: String

  /// Creates a mailbox.
  public init(name: String = "", address: String) {
    self.name = name
    self.address = address
  }

  /// Parses `addr@example.com` or `Display Name <addr@example.com>` (the
  /// name optionally in double quotes); nil when there is no plausible address.
  public init?(parsing text: String) {
    let trimmed = text.trimmingWhitespace()
    if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
      var name = trimmed[..<open].trimmingWhitespace()
      if name.count >= 2 && name.hasPrefix("\"") && name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
      self.init(name: name, address: String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]))
    } else {
      self.init(address: trimmed)
    }
    guard Self.isPlausible(address) else { return nil }
  }

  /// Whether `address` looks like `local@domain` in printable ASCII without spaces or brackets.
  public static func isPlausible(_ address: String) -> Bool {
    let parts = address.split(separator: "@", omittingEmptySubsequences: false)
    return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
      && address.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
  }

  /// The domain part of the address.
  public var domain: String {
    address.split(separator: "@").last.map(String.init) ?? "localhost"
  }

  /// The header form, split into foldable tokens: the name as an atom
  /// sequence, a quoted string or encoded-words, then `<address>`.
  public var headerTokens: [String] {
    let name = self.name.replacingControlCharacters().trimmingWhitespace()
    guard !name.isEmpty else { return [address] }
    let phrase: [String]
    if !MIMEEncoding.isPlainHeaderText(name) {
      phrase = MIMEEncoding.phrase(name)
    } else if name.utf8.allSatisfy({ $0 == UInt8(ascii: " ") || MIMEEncoding.isAtomCharacter($0) }) {
      phrase = name.split(separator: " ").map(String.init)
    } else {
      var quoted = "\""
      for character in name {
        if character == "\"" || character == "\\" { quoted.append("\\") }
        quoted.append(character)
      }
      phrase = [quoted + "\""]
    }
    return phrase + ["<" + address + ">"]
  }

  /// The mailbox as it appears in a header (unfolded).
  public var description: String { headerTokens.joined(separator: " ") }
}

extension StringProtocol {
  /// The text without leading and trailing spaces, tabs and line breaks.
  func trimmingWhitespace() -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
    return String(self[first...last])
  }
}
