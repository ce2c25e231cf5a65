import GuestAccessStorage
import GuestAccessProto

extension PGDirectory {
  func credential(secretHash: [UInt8]) throws -> (credential: Credential, storedHash: [UInt8])? {
    try db.first("SELECT data, secret_hash FROM credentials WHERE secret_hash = $1\(lock)", [.blob(secretHash)]) {
      (try decode(Credential.self, $0.blob(0)), $0.blob(1))
    }
  }

  func credential(tenantID: String, id: String) throws -> Credential? {
    try db.first("SELECT data FROM credentials WHERE id = $1 AND tenant_id = $2\(lock)", [.text(id), .text(tenantID)]) {
      try decode(Credential.self, $0.blob(0))
    }
  }

  func credentials(tenantID: String, userID: String?, after cursor: String, limit: Int) throws -> [Credential] {
    // Newest first, as ListCredentials promises: ids sort by creation time.
    if let userID {
      return try db.rows(
        "SELECT data FROM credentials WHERE user_id = $1 AND tenant_id = $2 AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4\(lock)",
        [.text(userID), .text(tenantID), .text(cursor), .int(limit)]
      ) { try decode(Credential.self, $0.blob(0)) }
    }
    return try db.rows(
      "SELECT data FROM credentials WHERE tenant_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3\(lock)", [.text(tenantID), .text(cursor), .int(limit)]
    ) { try decode(Credential.self, $0.blob(0)) }
  }

  func hasOperatorCredential() throws -> Bool {
    try db.first("SELECT 1 FROM credentials WHERE tenant_id = '' LIMIT 1\(lock)") { _ in true } ?? false
  }

  func insertCredential(_ credential: Credential, secretHash: [UInt8]) throws {
    try db.run(
      "INSERT INTO credentials (id, tenant_id, user_id, secret_hash, data) VALUES ($1, $2, $3, $4, $5)",
      [.text(credential.id), .text(credential.tenantID), .text(credential.userID), .blob(secretHash), .blob(credential.serializedBytes())])
  }

  func updateCredential(_ credential: Credential) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run("UPDATE credentials SET data = $2 WHERE id = $1", [.text(credential.id), .blob(credential.serializedBytes())])
  }

  func touchCredential(id: String, lastUsedAt: Int64) throws {
    guard var credential = try db.first("SELECT data FROM credentials WHERE id = $1\(lock)", [.text(id)], {
      try decode(Credential.self, $0.blob(0))
    }), credential.lastUsedAt < lastUsedAt else { return }
    credential.lastUsedAt = lastUsedAt
    try db.run("UPDATE credentials SET data = $2 WHERE id = $1", [.text(id), .blob(credential.serializedBytes())])
  }
}
