extension SQLiteDirectory {
  private static let federatedColumns =
    "state_hash, invitation_id, tenant_id, provider_id, provider_tenant_id, step, nonce, sealed_verifier, expires_at, state, created_at"

  func federatedSignIn(stateHash: [UInt8]) throws -> FederatedSignIn? {
    try db.first("SELECT \(Self.federatedColumns) FROM federated_sign_ins WHERE state_hash = ?1", [.blob(stateHash)]) { row in
      FederatedSignIn(
        stateHash: row.blob(0), invitationID: row.text(1), tenantID: row.text(2), providerID: row.text(3), providerTenantID: row.text(4),
        step: row.int64(5), nonce: row.text(6), sealedVerifier: row.blob(7), expiresAt: row.int64(8),
        state: FederatedSignIn.State(rawValue: row.int64(9)) ?? .completed, createdAt: row.int64(10))
    }
  }

  func putFederatedSignIn(_ signIn: FederatedSignIn) throws {
    try db.run(
      """
      INSERT INTO federated_sign_ins (\(Self.federatedColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
      ON CONFLICT(state_hash) DO UPDATE SET state = excluded.state
      """,
      [.blob(signIn.stateHash), .text(signIn.invitationID), .text(signIn.tenantID), .text(signIn.providerID), .text(signIn.providerTenantID),
       .integer(signIn.step), .text(signIn.nonce), .blob(signIn.sealedVerifier), .integer(signIn.expiresAt),
       .integer(signIn.state.rawValue), .integer(signIn.createdAt)])
  }

  func deleteFederatedSignIns(createdBy time: Int64, limit: Int) throws -> Int {
    try db.run(
      """
      DELETE FROM federated_sign_ins WHERE state_hash IN (
        SELECT state_hash FROM federated_sign_ins WHERE created_at <= ?1 ORDER BY created_at LIMIT ?2)
      """,
      [.integer(time), .int(limit)])
  }
}
