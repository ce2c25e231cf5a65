/// A (possibly multi-line) SMTP reply: `250-first`, ..., `250 last`.
struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
  /// The three-digit code.
  var code: Int
  /// The text of each line, without the code and separator.
  var lines: [String]

  /// 2xx.
  var isPositive: Bool { (200..<300).contains(code) }

  /// The reply as one line, e.g. `451 4.3.0 try again later`.
  var description: String {
    "\(code) " + lines.filter { !$0.isEmpty }.joined(separator: " / ")
  }

  /// The delivery error this reply means: 4xx (and anything unexpected but
  /// 5xx) is worth a retry; 5xx is final.
  func failure(during step: String) -> EmailDeliveryError {
    let reason = "\(step): \(Self.truncated(description))"
    return (500..<600).contains(code) ? .permanent(reason) : .transient(reason)
  }

  /// Parses one reply line: the code and whether more lines follow.
  static func parseLine(_ line: String) -> (code: Int, text: String, more: Bool)? {
    let bytes = Array(line.utf8)
    guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(code) else {
      return nil
    }
    if bytes.count == 3 { return (code, "", false) }
    guard bytes[3] == UInt8(ascii: "-") || bytes[3] == UInt8(ascii: " ") else { return nil }
    return (code, String(decoding: bytes[4...], as: UTF8.self), bytes[3] == UInt8(ascii: "-"))
  }

  static func truncated(_ text: String) -> String {
    text.count <= 300 ? text : String(text.prefix(300)) + "..."
  }
}
