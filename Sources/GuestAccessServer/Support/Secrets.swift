import Crypto
import GuestAccessBase64

#if canImport(Glibc)
import Glibc
#endif

/// Random identifiers and secrets, their hashes, and constant-time comparison.
public enum Secrets {
  /// 32 random bytes (256 bits) from the system's CSPRNG.
  public static func randomBytes(_ count: Int = 32) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
      withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
  }

  /// A new secret: `prefix` + 256 random bits in base64url.
  public static func newSecret(prefix: String) -> String {
    prefix + Base64.url.encode(randomBytes(32))
  }

  /// A new opaque id: `prefix` + 48 bits of the creation time in
  /// milliseconds + 80 random bits, in hex (32 digits). Ids made later sort
  /// later, so inserts append to the right edge of the id indexes: a group
  /// commit then writes a few shared pages instead of one random page per
  /// row. Ids are identifiers, not secrets.
  public static func newID(prefix: String) -> String {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    let millis = UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    var bytes: [UInt8] = (0..<6).map { UInt8(truncatingIfNeeded: millis >> (40 - 8 * $0)) }
    bytes += randomBytes(10)
    return prefix + hex(bytes)
  }

  /// `bytes` in lower-case hex, two digits a byte.
  static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text = [UInt8]()
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: text, as: UTF8.self)
  }

  /// SHA-256 of a secret's UTF-8 bytes (secrets are 256-bit random, so a fast hash is enough).
  public static func hash(_ secret: String) -> [UInt8] {
    Array(SHA256.hash(data: Array(secret.utf8)))
  }

  /// SHA-256 of bytes.
  public static func hash(bytes: [UInt8]) -> [UInt8] {
    Array(SHA256.hash(data: bytes))
  }

  /// Compares two byte strings in time that depends only on their lengths.
  public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<lhs.count { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
  }
}
