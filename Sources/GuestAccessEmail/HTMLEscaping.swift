/// HTML escaping of plain text (element content and quoted attribute values).
public enum HTMLEscaping {
  /// `text` with `& < > " '` replaced by character references.
  public static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// Escaped text whose line breaks become `<br>`: plain text shown as written.
  public static func paragraph(_ text: String) -> String {
    MIMEEncoding.normalizedLines(text).map { escape(String($0)) }.joined(separator: "<br>\n")
  }
}
