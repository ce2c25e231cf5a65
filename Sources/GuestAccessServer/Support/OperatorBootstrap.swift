import GuestAccessProto
import GuestAccessStorage
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Makes sure an operator credential exists: the configured one, or on
/// first start a new one written to `operator.key` in the data directory,
/// readable only by its owner. The secret is never logged.
enum OperatorBootstrap {
  static func run(store: any DirectoryStore, dataDir: String, configuredKey: String?, clock: any ServerClock, logger: Logger) async throws {
    let now = clock.nowMillis()
    if let configuredKey {
      try checkStrong(configuredKey)
      let hash = Secrets.hash(configuredKey)
      let path = keyFile(dataDir: dataDir)
      let retired = try await store.write { writer -> Int in
        if try writer.credential(secretHash: hash) == nil {
          let credential = Credential(
            id: Secrets.newID(prefix: "key_"), principalType: .operator, displayName: "configured operator credential",
            secretHint: String(configuredKey.prefix(4)), state: .active, createdAt: now, createdBy: "configuration")
          try writer.insertCredential(credential, secretHash: hash)
          try recordIssued(credential, writer: writer, now: now)
        }
        // A configured key replaces the bootstrap one: the key written to operator.key stops working.
        var retired = 0
        for var credential in try writer.credentials(tenantID: "", userID: nil, after: "", limit: 10_000)
        where isBootstrap(credential) && credential.revokedAt == 0 {
          credential.revokedAt = now
          credential.state = .revoked
          try writer.updateCredential(credential)
          try recordRevoked(credential, writer: writer, now: now)
          retired += 1
        }
        return retired
      }
      if unlink(path) == 0 || retired > 0 {
        logger.notice("configured operator credential in use: the bootstrap credential was revoked and \(path) removed")
      }
      logger.info("operator credential taken from configuration")
      return
    }
    let path = keyFile(dataDir: dataDir)
    let (exists, bootstrapEnded) = try await store.read { reader -> (Bool, Bool) in
      let bootstrap = try reader.credentials(tenantID: "", userID: nil, after: "", limit: 10_000).filter(isBootstrap)
      return (try reader.hasOperatorCredential(), !bootstrap.isEmpty && bootstrap.allSatisfy { CredentialLifetime.isRevoked($0, now: now) })
    }
    // A bootstrap key that was revoked or rotated out leaves no usable secret lying around.
    if bootstrapEnded { removeKeyFile(path, logger: logger) }
    guard !exists else { return }
    let secret = Secrets.newSecret(prefix: "gak_op_")
    try writeOwnerOnly(path: path, contents: secret + "\n")
    try await store.write { writer in
      let credential = Credential(
        id: Secrets.newID(prefix: "key_"), principalType: .operator, displayName: "initial operator credential",
        secretHint: String(secret.prefix(10)), state: .active, createdAt: now, createdBy: bootstrapCreator)
      try writer.insertCredential(credential, secretHash: Secrets.hash(secret))
      try recordIssued(credential, writer: writer, now: now)
    }
    logger.notice("created the operator credential in \(path) (mode 0600)")
  }

  /// Where the bootstrap key is written: `operator.key` in the data directory.
  static func keyFile(dataDir: String) -> String {
    dataDir + "/operator.key"
  }

  /// Whether `credential` is the operator key written to `operator.key` on the first start.
  static func isBootstrap(_ credential: Credential) -> Bool {
    credential.principalType == .operator && credential.createdBy == bootstrapCreator
  }

  /// `created_by` of the bootstrap key.
  static let bootstrapCreator = "bootstrap"

  /// Deletes the bootstrap key's file (`path`, nil = none known); returns whether it existed.
  @discardableResult
  static func removeKeyFile(_ path: String?, logger: Logger) -> Bool {
    guard let path, unlink(path) == 0 else { return false }
    logger.notice("the bootstrap operator key is no longer valid: \(path) removed")
    return true
  }

  /// CREDENTIAL_ISSUED by SYSTEM, among the operator's own events (tenant ""),
  /// naming where the key came from; never the secret or its hint.
  private static func recordIssued(_ credential: Credential, writer: any DirectoryWriter, now: Int64) throws {
    var events: [AuditEvent] = []
    try AuditRecorder(systemAt: now).record(
      writer, &events, tenantID: "", action: .credentialIssued, targetType: .credential, targetID: credential.id,
      details: ["principal_type": "operator", "source": credential.createdBy])
  }

  /// CREDENTIAL_REVOKED by SYSTEM for the bootstrap key a configured key retires.
  private static func recordRevoked(_ credential: Credential, writer: any DirectoryWriter, now: Int64) throws {
    var events: [AuditEvent] = []
    try AuditRecorder(systemAt: now).record(
      writer, &events, tenantID: "", action: .credentialRevoked, targetType: .credential, targetID: credential.id,
      details: ["principal_type": "operator", "reason": "configured operator key"])
  }

  /// The shortest configured operator key: 256 bits as base64url (43 characters).
  static let minimumKeyLength = 43

  /// A configured operator key must be strong: at least 43 characters of the
  /// base64/base64url alphabet (a `gak_`-style prefix may precede them), not a
  /// repetition of a few characters. Make one with
  /// `head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='`.
  static func checkStrong(_ key: String) throws {
    let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=".utf8)
    guard key.utf8.count >= minimumKeyLength, key.utf8.allSatisfy({ alphabet.contains($0) }) else {
      throw SettingsError("the operator key must be at least \(minimumKeyLength) characters of the base64url alphabet (256 random bits)")
    }
    guard Set(key.utf8).count >= 16 else {
      throw SettingsError("the operator key is not random enough (too few distinct characters); use 32 random bytes in base64url")
    }
  }

  static func writeOwnerOnly(path: String, contents: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw SettingsError("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    fchmod(fd, 0o600)
    let bytes = Array(contents.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count, fsync(fd) == 0 else { throw SettingsError("cannot write \(path)") }
  }
}
