import Foundation
import GuestAccessBase64
import Testing

/// The one base64 codec: RFC 4648's test vectors in both alphabets, with and
/// without padding, what it refuses, and agreement with the decoder it
/// replaced (`Secrets.decodeBase64URL`, kept here as the reference) on every
/// short input, so tokens, keys, page tokens and JOSE values read as before.
@Suite("Base64")
struct Base64Tests {
  /// RFC 4648 §10.
  static let vectors: [(String, String)] = [
    ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
  ]

  static let unpaddedStandard = Base64(alphabet: .standard, padding: false)
  static let paddedURL = Base64(alphabet: .url, padding: true)

  @Test func rfc4648Vectors() {
    for (plain, encoded) in Self.vectors {
      let bytes = Array(plain.utf8)
      let unpadded = String(encoded.prefix { $0 != "=" })
      #expect(Base64.standard.encode(bytes) == encoded)
      #expect(Self.paddedURL.encode(bytes) == encoded)
      #expect(Base64.url.encode(bytes) == unpadded)
      #expect(Self.unpaddedStandard.encode(bytes) == unpadded)
      #expect(Base64.standard.decode(encoded) == bytes)
      #expect(Self.paddedURL.decode(encoded) == bytes)
      #expect(Base64.url.decode(unpadded) == bytes)
      #expect(Self.unpaddedStandard.decode(unpadded) == bytes)
    }
  }

  /// The two alphabets differ in the last two characters only, and each refuses the other's.
  @Test func alphabets() {
    let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
    #expect(Base64.standard.encode(bytes) == "+/+/")
    #expect(Base64.url.encode(bytes) == "-_-_")
    #expect(Base64.standard.encode([0xFB, 0xFF]) == "+/8=")
    #expect(Base64.url.encode([0xFB, 0xFF]) == "-_8")
    #expect(Base64.standard.decode("+/+/") == bytes && Base64.url.decode("-_-_") == bytes)
    #expect(Base64.standard.decode("-_-_") == nil && Base64.url.decode("+/+/") == nil)
    #expect(Base64.url.decode("-_8") == [0xFB, 0xFF])
    // Every byte value, every alphabet, through every codec.
    let all = (0...255).map(UInt8.init)
    for codec in [Base64.standard, .url, Self.unpaddedStandard, Self.paddedURL] {
      #expect(codec.decode(codec.encode(all)) == all)
    }
    #expect(Base64.standard.encode(all) == Data(all).base64EncodedString())
  }

  @Test func refusesWhatIsNotBase64() {
    // Padding: required with it, refused without it, only at the end and only as much as completes the group.
    #expect(Base64.standard.decode("Zg") == nil)
    #expect(Base64.standard.decode("Zg=") == nil)
    #expect(Base64.standard.decode("Zg===") == nil)
    #expect(Base64.standard.decode("Z===") == nil)
    #expect(Base64.standard.decode("====") == nil)
    #expect(Base64.standard.decode("Zm8==") == nil)
    #expect(Base64.standard.decode("Zm9v====") == nil)
    #expect(Base64.standard.decode("Zg==Zg==") == nil)
    #expect(Base64.standard.decode("Zm=v") == nil)
    #expect(Base64.url.decode("Zg==") == nil)
    #expect(Base64.url.decode("Zm8=") == nil)
    // A lone character in the last group holds no byte.
    #expect(Base64.url.decode("Zm9vY") == nil)
    #expect(Base64.url.decode("Z") == nil)
    // No whitespace, line breaks or other characters anywhere.
    for text in ["Zm9v\n", " Zm9v", "Zm 9v", "Zm9v\r\nYg", "Zm9v\t", "Zm9.", "Zm9vé", "Zm9v\0"] {
      #expect(Base64.url.decode(text) == nil, "\(text.debugDescription)")
      #expect(Base64.standard.decode(text) == nil, "\(text.debugDescription)")
    }
  }

  /// Bits below the last byte are ignored, as the replaced decoder did
  /// (RFC 4648 §3.5 lets a decoder choose): a token read before reads the same.
  @Test func leftoverBitsAreIgnored() {
    #expect(Base64.url.decode("Zh") == Array("f".utf8))
    #expect(Base64.url.decode("Zm9") == Array("fo".utf8))
    #expect(Base64.standard.decode("Zh==") == Array("f".utf8))
  }

  /// Every string of up to four characters from the URL alphabet, `=`, `+`,
  /// `/`, a space and a dot decodes (or is refused) exactly as the replaced
  /// decoder did, and the encoder writes what the replaced encoders wrote.
  @Test func matchesTheReplacedCodecs() {
    let characters = Array("AZaz09-_=+/ .Qgw".utf8)
    var texts: [[UInt8]] = [[]]
    var level: [[UInt8]] = [[]]
    for _ in 0..<4 {
      level = level.flatMap { prefix in characters.map { prefix + [$0] } }
      texts += level
    }
    let differing = texts.map { String(decoding: $0, as: UTF8.self) }.filter { Base64.url.decode($0) != Self.replacedURLDecoder($0) }
    #expect(texts.count == 69_905)
    #expect(differing.isEmpty, "\(differing.prefix(10))")
    var random = SystemRandomNumberGenerator()
    for length in 0..<70 {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
      #expect(Base64.url.encode(bytes) == Self.replacedURLEncoder(bytes))
      #expect(Base64.standard.encode(bytes) == Data(bytes).base64EncodedString())
      #expect(Base64.url.decode(Self.replacedURLEncoder(bytes)) == bytes)
    }
  }

  /// `Secrets.decodeBase64URL` as it was before `Base64`.
  static func replacedURLDecoder(_ text: String) -> [UInt8]? {
    var values: [UInt8] = []
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - 65)
      case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - 97 + 26)
      case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte - 48 + 52)
      case UInt8(ascii: "-"): values.append(62)
      case UInt8(ascii: "_"): values.append(63)
      default: return nil
      }
    }
    guard values.count % 4 != 1 else { return nil }
    var out: [UInt8] = []
    var index = 0
    while index < values.count {
      let chunk = values[index..<min(index + 4, values.count)]
      var n: UInt32 = 0
      for (offset, value) in chunk.enumerated() { n |= UInt32(value) << (18 - 6 * offset) }
      out.append(UInt8(n >> 16 & 0xFF))
      if chunk.count > 2 { out.append(UInt8(n >> 8 & 0xFF)) }
      if chunk.count > 3 { out.append(UInt8(n & 0xFF)) }
      index += 4
    }
    return out
  }

  /// `Secrets.base64URL` as it was before `Base64`.
  static func replacedURLEncoder(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var out: [UInt8] = []
    var index = 0
    while index + 3 <= bytes.count {
      let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
      index += 3
    }
    let rest = bytes.count - index
    if rest == 1 {
      let n = UInt32(bytes[index]) << 16
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
    } else if rest == 2 {
      let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
    }
    return String(decoding: out, as: UTF8.self)
  }
}
