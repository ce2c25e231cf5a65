import GuestAccessBase64

/// The transfer and header encodings of MIME (RFC 2045, RFC 2047) that the
/// renderer needs: quoted-printable, encoded-words (base64 by `Base64`) and header folding.
/// Every output is 7-bit ASCII with CRLF line ends.
public enum MIMEEncoding {
  /// Quoted-printable of UTF-8 `text` (RFC 2045 §6.7): line breaks become
  /// CRLF, lines are at most 76 characters (soft breaks `=`), and every byte
  /// but printable ASCII, and spaces not at a line end, is `=XX`.
  public static func quotedPrintable(_ text: String) -> String {
    let lines = normalizedLines(text)
    return lines.map(quotedPrintableLine).joined(separator: "\r\n")
  }

  private static func quotedPrintableLine(_ line: Substring) -> String {
    let bytes = Array(line.utf8)
    var out = ""
    var width = 0
    for (index, byte) in bytes.enumerated() {
      let isLast = index == bytes.count - 1
      let plain = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
      var token = plain ? String(UnicodeScalar(byte)) : hex(byte)
      // Keep room for the soft break "=" (76 including it).
      if width + token.count > 75 {
        out += "=\r\n"
        width = 0
      }
      // Encode a dot that starts a line: some relays mangle such lines.
      if width == 0 && token == "." { token = hex(byte) }
      out += token
      width += token.count
    }
    return out
  }

  private static func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
  }

  /// The lines of `text`, whatever its line ends (CRLF, LF, CR).
  static func normalizedLines(_ text: String) -> [Substring] {
    text.replacingCRLF().split(separator: "\n", omittingEmptySubsequences: false)
  }

  /// Whether `text` needs no encoding in a header: printable ASCII and spaces.
  public static func isPlainHeaderText(_ text: String) -> Bool {
    text.utf8.allSatisfy { $0 >= 32 && $0 <= 126 }
  }

  /// RFC 2047 encoded-words (`=?utf-8?B?...?=`) of `text`, each at most 60
  /// characters (so a header line with one stays within 78) and never
  /// splitting a character. Decoders join adjacent words without the space between them.
  public static func encodedWords(_ text: String) -> [String] {
    // 36 bytes of UTF-8 become 48 characters of base64; with "=?utf-8?B?" and "?=" that is 60.
    var words: [String] = []
    var chunk: [UInt8] = []
    for character in text {
      let bytes = Array(String(character).utf8)
      if chunk.count + bytes.count > 36, !chunk.isEmpty {
        words.append("=?utf-8?B?" + Base64.standard.encode(chunk) + "?=")
        chunk = []
      }
      chunk += bytes
    }
    if !chunk.isEmpty || words.isEmpty { words.append("=?utf-8?B?" + Base64.standard.encode(chunk) + "?=") }
    return words
  }

  /// Unstructured header text (Subject and the like), as foldable tokens.
  public static func unstructured(_ text: String) -> [String] {
    let clean = text.replacingControlCharacters()
    if isPlainHeaderText(clean) {
      return clean.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    }
    return phrase(clean)
  }

  /// Text with non-ASCII words as foldable tokens: words of plain atom
  /// characters stay as they are; each run of other words becomes
  /// encoded-words that carry the spaces inside the run (so decoders that
  /// drop the space between adjacent encoded-words, as RFC 2047 says, and
  /// those that keep it both read the original). Consecutive spaces collapse.
  public static func phrase(_ text: String) -> [String] {
    var tokens: [String] = []
    var run: [Substring] = []
    func flush() {
      if !run.isEmpty { tokens += encodedWords(run.joined(separator: " ")) }
      run = []
    }
    for word in text.replacingControlCharacters().split(separator: " ") {
      if word.utf8.allSatisfy(isAtomCharacter) {
        flush()
        tokens.append(String(word))
      } else {
        run.append(word)
      }
    }
    flush()
    return tokens
  }

  /// RFC 5322 atext: letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
  static func isAtomCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
    default: Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(byte)
    }
  }

  /// A header field `name: value` folded at the given tokens so no line
  /// exceeds 78 characters where the tokens allow (RFC 5322 §2.2.3), ending in CRLF.
  public static func header(_ name: String, tokens: [String]) -> String {
    var out = name + ":"
    var width = out.count
    for (index, token) in tokens.enumerated() {
      if index > 0 && width + 1 + token.count > 78 {
        out += "\r\n"
        width = 0
      }
      out += " " + token
      width += 1 + token.count
    }
    return out + "\r\n"
  }
}

extension String {
  /// LF line ends for CRLF and lone CR.
  func replacingCRLF() -> String {
    var out = ""
    var previousCR = false
    for scalar in unicodeScalars {
      if scalar == "\r" {
        out.unicodeScalars.append("\n")
        previousCR = true
        continue
      }
      if scalar == "\n" && previousCR {
        previousCR = false
        continue
      }
      previousCR = false
      out.unicodeScalars.append(scalar)
    }
    return out
  }

  /// Control characters (CR, LF, tabs, ...) replaced by spaces: header values are one line.
  func replacingControlCharacters() -> String {
    String(String.UnicodeScalarView(unicodeScalars.map { $0.value < 32 || $0.value == 127 ? " " : $0 }))
  }
}
