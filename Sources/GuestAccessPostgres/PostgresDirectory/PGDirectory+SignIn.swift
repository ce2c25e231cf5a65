import GuestAccessStorage

extension PGDirectory {
  private static let signInColumns = "id, tenant_id, user_id, email, passcode_hash, expires_at, attempts, max_attempts, state, created_at"

  private func signInSession(_ row: PGRow) -> SignInSession {
    SignInSession(
      id: row.text(0), tenantID: row.text(1), userID: row.text(2), email: row.text(3), passcodeHash: row.blob(4),
      expiresAt: row.int64(5), attempts: Int(row.int64(6)), maxAttempts: Int(row.int64(7)),
      state: RedemptionSession.State(rawValue: row.int64(8)) ?? .closed, createdAt: row.int64(9))
  }

  func signInSession(id: String) throws -> SignInSession? {
    try db.first("SELECT \(Self.signInColumns) FROM sign_in_sessions WHERE id = $1\(lock)", [.text(id)], signInSession)
  }

  func putSignInSession(_ session: SignInSession) throws {
    try db.run(
      """
      INSERT INTO sign_in_sessions (\(Self.signInColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
      ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, state = excluded.state, expires_at = excluded.expires_at
      """,
      [.text(session.id), .text(session.tenantID), .text(session.userID), .text(session.email.lowercased()), .blob(session.passcodeHash),
       .integer(session.expiresAt), .integer(Int64(session.attempts)), .integer(Int64(session.maxAttempts)),
       .integer(session.state.rawValue), .integer(session.createdAt)])
  }

  func deleteSignInSessions(createdBy time: Int64, limit: Int) throws -> Int {
    try db.run(
      """
      DELETE FROM sign_in_sessions WHERE id IN (
        SELECT id FROM sign_in_sessions WHERE created_at <= $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      """,
      [.integer(time), .integer(Int64(limit))])
  }
}
