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
      guard configuredKey.utf8.count >= 32 else {
        throw SettingsError("the operator key must be at least 32 characters")
      }
      let hash = Secrets.hash(configuredKey)
      try await store.write { writer in
        guard try writer.credential(secretHash: hash) == nil else { return }
        let credential = Credential(
          id: Secrets.newID(prefix: "key_"), principalType: .operator, displayName: "configured operator credential",
          secretHint: String(configuredKey.prefix(4)), state: .active, createdAt: now, createdBy: "configuration")
        try writer.insertCredential(credential, secretHash: hash)
        try recordIssued(credential, writer: writer, now: now)
      }
      logger.info("operator credential taken from configuration")
      return
    }
    let exists = try await store.read { try $0.hasOperatorCredential() }
    guard !exists else { return }
    let secret = Secrets.newSecret(prefix: "gak_op_")
    let path = dataDir + "/operator.key"
    try writeOwnerOnly(path: path, contents: secret + "\n")
    try await store.write { writer in
      let credential = Credential(
        id: Secrets.newID(prefix: "key_"), principalType: .operator, displayName: "initial operator credential",
        secretHint: String(secret.prefix(10)), state: .active, createdAt: now, createdBy: "bootstrap")
      try writer.insertCredential(credential, secretHash: Secrets.hash(secret))
      try recordIssued(credential, writer: writer, now: now)
    }
    logger.notice("created the operator credential in \(path) (mode 0600)")
  }

  /// CREDENTIAL_ISSUED by SYSTEM, among the operator's own events (tenant ""),
  /// naming where the key came from; never the secret or its hint.
  private static func recordIssued(_ credential: Credential, writer: any DirectoryWriter, now: Int64) throws {
    var events: [AuditEvent] = []
    try AuditRecorder(systemAt: now).record(
      writer, &events, tenantID: "", action: .credentialIssued, targetType: .credential, targetID: credential.id,
      details: ["principal_type": "operator", "source": credential.createdBy])
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
