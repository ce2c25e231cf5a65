import Crypto
import GuestAccessBase64
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Keyed hashes (HMAC-SHA256) of the short or mailed secrets the database
/// must not be able to give back: redeem tickets and email passcodes.
///
/// The key lives outside the database (`hash.key` in the data directory, or a
/// configured file), so a copy of the database alone cannot test guesses: an
/// 8-digit passcode under a plain SHA-256 falls to a search of its whole space
/// in under a minute, under an unknown 256-bit key it does not. Credentials
/// (API keys) are 256-bit random and keep a plain SHA-256: nothing is gained
/// by keying them, and losing the key must never lock the operator out.
public struct SecretHasher: Sendable {
  private let key: [UInt8]

  /// Bytes a key has at least.
  public static let minimumKeyBytes = 32
  /// The key file's name in the data directory.
  public static let defaultFileName = "hash.key"

  /// A hasher with `key` (at least 32 bytes).
  public init(key: [UInt8]) {
    precondition(key.count >= Self.minimumKeyBytes, "a hash key has at least 32 bytes")
    self.key = key
  }

  /// A hasher with a new random key (tests and tools that keep nothing).
  public static func ephemeral() -> SecretHasher {
    SecretHasher(key: Secrets.randomBytes(32))
  }

  /// The stored form of a redeem ticket.
  public func ticket(_ ticket: String) -> [UInt8] {
    mac("ticket", [ticket])
  }

  /// The stored form of a passcode, bound to its redemption session so that
  /// one session's hash says nothing about another's.
  public func passcode(_ passcode: String, sessionID: String) -> [UInt8] {
    mac("passcode", [sessionID, passcode])
  }

  /// The stored form of a federated sign-in's `state`.
  public func federatedState(_ state: String) -> [UInt8] {
    mac("oidc-state", [state])
  }

  /// `secret` sealed (ChaCha20-Poly1305) under a key derived from the hash
  /// key for `purpose`: secrets the server must use again later, such as an
  /// identity provider's client secret, are stored only in this form.
  public func seal(_ secret: String, purpose: String) -> [UInt8] {
    guard !secret.isEmpty else { return [] }
    // A fresh random nonce per seal; sealing cannot fail with a 256-bit key.
    guard let box = try? ChaChaPoly.seal(Array(secret.utf8), using: sealingKey(purpose)) else { return [] }
    return Array(box.combined)
  }

  /// The secret `sealed` holds, nil if it was not sealed for `purpose` under this key.
  public func unseal(_ sealed: [UInt8], purpose: String) -> String? {
    guard !sealed.isEmpty, let box = try? ChaChaPoly.SealedBox(combined: sealed),
      let plain = try? ChaChaPoly.open(box, using: sealingKey(purpose))
    else { return nil }
    return String(decoding: plain, as: UTF8.self)
  }

  private func sealingKey(_ purpose: String) -> SymmetricKey {
    HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: key), info: Array("seal:\(purpose)".utf8), outputByteCount: 32)
  }

  /// HMAC-SHA256 over a purpose label and length-prefixed parts: no two
  /// different inputs share a message.
  private func mac(_ purpose: String, _ parts: [String]) -> [UInt8] {
    var message = Array(purpose.utf8)
    for part in parts {
      let bytes = Array(part.utf8)
      withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { message.append(contentsOf: $0) }
      message += bytes
    }
    return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
  }
}

extension SecretHasher {
  /// Loads the key from `configuredFile`, or from `hash.key` in `dataDir`,
  /// creating that file (mode 0600) with 256 random bits on first start.
  /// A configured file must exist; either file holds the key in base64url
  /// (at least 32 bytes once decoded) on its first line.
  static func load(dataDir: String, configuredFile: String?, logger: Logger) throws -> SecretHasher {
    let path = configuredFile ?? dataDir + "/" + defaultFileName
    if let text = try readFile(path) {
      guard let key = Base64.url.decode(text.trimmingSpaces), key.count >= minimumKeyBytes else {
        throw SettingsError("\(path) must hold a hash key of at least 32 bytes in base64url (as guestd writes it)")
      }
      var info = stat()
      if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
        if configuredFile == nil {
          chmod(path, 0o600)
        } else {
          logger.warning("the hash key file \(path) is readable by other users (mode \(String(info.st_mode & 0o777, radix: 8)))")
        }
      }
      return SecretHasher(key: key)
    }
    guard configuredFile == nil else { throw SettingsError("cannot read the hash key file \(path)") }
    let key = Secrets.randomBytes(32)
    try OperatorBootstrap.writeOwnerOnly(path: path, contents: Base64.url.encode(key) + "\n")
    logger.notice("created the hash key in \(path) (mode 0600): back it up with the database")
    return SecretHasher(key: key)
  }

  /// The file's text; nil when it does not exist.
  private static func readFile(_ path: String) throws -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      if errno == ENOENT { return nil }
      throw SettingsError("cannot read \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 512)
    while bytes.count < 4096 {
      let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      guard count > 0 else { break }
      bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
