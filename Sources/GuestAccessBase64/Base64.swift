/// Base64 (RFC 4648): the project's one encoder and decoder, for both
/// alphabets, with or without padding.
///
/// Decoding is strict: only the alphabet's 64 characters, no whitespace or
/// line breaks, the other alphabet's two characters refused; with padding
/// the text is whole groups of four, `=` only at its end to complete the last
/// group; without padding a `=` is refused and the last group has two or
/// three characters (a single one cannot hold a byte). Bits left over below
/// the last byte are ignored (RFC 4648 §3.5 allows either choice), as the
/// project's decoders always did.
public struct Base64: Sendable, Hashable {
  /// The 64 characters of the last two positions.
  public enum Alphabet: Sendable, Hashable {
    /// `+` and `/` (RFC 4648 §4): MIME, HTTP Basic authentication.
    case standard
    /// `-` and `_` (RFC 4648 §5): URLs, file names, JOSE, the project's tokens and keys.
    case url
  }

  /// Which alphabet.
  public let alphabet: Alphabet
  /// Whether encoded text ends in `=` to a multiple of four characters.
  public let padding: Bool

  /// A codec for `alphabet`, with or without padding.
  public init(alphabet: Alphabet, padding: Bool) {
    self.alphabet = alphabet
    self.padding = padding
  }

  /// The standard alphabet with padding (MIME, HTTP Basic).
  public static let standard = Base64(alphabet: .standard, padding: true)
  /// The URL alphabet without padding (JOSE's base64url; tokens, keys, page tokens).
  public static let url = Base64(alphabet: .url, padding: false)

  private static let standardCharacters: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
  private static let urlCharacters: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
  private static let pad = UInt8(ascii: "=")

  /// The encoded text of `bytes` on one line.
  public func encode(_ bytes: some Collection<UInt8>) -> String {
    // One concrete copy (none for an array): the loop below is not generic.
    let input = Array(bytes)
    let characters = alphabet == .standard ? Self.standardCharacters : Self.urlCharacters
    let length = padding ? (input.count + 2) / 3 * 4 : (input.count * 4 + 2) / 3
    return String(unsafeUninitializedCapacity: length) { out in
      var written = 0
      var index = 0
      while index < input.count {
        let rest = input.count - index
        let n = UInt32(input[index]) << 16 | (rest > 1 ? UInt32(input[index + 1]) << 8 : 0) | (rest > 2 ? UInt32(input[index + 2]) : 0)
        out[written] = characters[Int(n >> 18 & 63)]
        out[written + 1] = characters[Int(n >> 12 & 63)]
        written += 2
        if rest > 1 {
          out[written] = characters[Int(n >> 6 & 63)]
          written += 1
        } else if padding {
          out[written] = Self.pad
          written += 1
        }
        if rest > 2 {
          out[written] = characters[Int(n & 63)]
          written += 1
        } else if padding {
          out[written] = Self.pad
          written += 1
        }
        index += 3
      }
      return written
    }
  }

  /// The bytes `text` encodes; nil when it is not this alphabet's base64
  /// with this padding (see the type's rules).
  public func decode(_ text: some StringProtocol) -> [UInt8]? {
    var utf8 = Array(text.utf8)
    if padding {
      guard utf8.count % 4 == 0 else { return nil }
      // One or two `=` complete the last group; the rest must be the alphabet's.
      var pads = 0
      while pads < 2, let last = utf8.last, last == Self.pad {
        utf8.removeLast()
        pads += 1
      }
      if pads > 0, utf8.count % 4 != 4 - pads { return nil }
    }
    guard utf8.count % 4 != 1 else { return nil }
    let (high62, high63): (UInt8, UInt8) = alphabet == .standard ? (UInt8(ascii: "+"), UInt8(ascii: "/")) : (UInt8(ascii: "-"), UInt8(ascii: "_"))
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count * 3 / 4)
    var n: UInt32 = 0
    var count = 0
    for byte in utf8 {
      let value: UInt8
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
      case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
      case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
      case high62: value = 62
      case high63: value = 63
      default: return nil
      }
      n = n << 6 | UInt32(value)
      count += 1
      if count == 4 {
        out.append(UInt8(n >> 16 & 0xFF))
        out.append(UInt8(n >> 8 & 0xFF))
        out.append(UInt8(n & 0xFF))
        n = 0
        count = 0
      }
    }
    if count == 2 {
      out.append(UInt8(n >> 4 & 0xFF))
    } else if count == 3 {
      out.append(UInt8(n >> 10 & 0xFF))
      out.append(UInt8(n >> 2 & 0xFF))
    }
    return out
  }
}
