import GuestAccessStorage
import GuestAccessProto

extension PGDirectory {
  func invitation(tenantID: String, id: String) throws -> Invitation? {
    try db.first("SELECT data FROM invitations WHERE id = $1 AND tenant_id = $2\(lock)", [.text(id), .text(tenantID)]) {
      try decode(Invitation.self, $0.blob(0))
    }
  }

  func invitation(ticketHash: [UInt8]) throws -> (invitation: Invitation, storedHash: [UInt8])? {
    try db.first("SELECT data, ticket_hash FROM invitations WHERE ticket_hash = $1\(lock)", [.blob(ticketHash)]) {
      (try decode(Invitation.self, $0.blob(0)), $0.blob(1))
    }
  }

  func invitations(tenantID: String, filter: InvitationFilter, after cursor: String, limit: Int) throws -> [Invitation] {
    let query = DirectoryQuery.invitations(tenantID: tenantID, filter: filter, after: cursor, limit: limit, dialect: .postgres)
    return try db.rows(query.sql, query.values.map(PGValue.init)) { try decode(Invitation.self, $0.blob(0)) }
  }

  func invitationTenant(id: String) throws -> String? {
    try db.first("SELECT tenant_id FROM invitations WHERE id = $1\(lock)", [.text(id)]) { $0.text(0) }
  }

  func failureCount(key: String, now: Int64, windowMillis: Int64) throws -> Int {
    let start = now - now % max(1, windowMillis)
    // Counts are committed as they are added (`countInWindow`): read, never locked.
    return try db.first("SELECT count FROM rate_windows WHERE key = $1 AND window_start = $2", [.text(key), .integer(start)]) {
      Int($0.int64(0))
    } ?? 0
  }

  func pendingInvitations(expiringBy time: Int64, limit: Int) throws -> [Invitation] {
    try db.rows("SELECT data FROM invitations WHERE status = 1 AND expires_at <= $1 ORDER BY expires_at LIMIT $2\(lock)", [.integer(time), .int(limit)]) {
      try decode(Invitation.self, $0.blob(0))
    }
  }

  func insertInvitation(_ invitation: Invitation, ticketHash: [UInt8]) throws {
    try insert(
      """
      INSERT INTO invitations (id, tenant_id, invited_email, status, guest_user_id, invited_by, ticket_hash, expires_at, data)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      """,
      [.text(invitation.id), .text(invitation.tenantID), .text(invitation.invitedEmail.lowercased()), .int(invitation.status.rawValue),
       .text(invitation.guestUserID), .text(invitation.invitedBy), ticketHash.isEmpty ? .null : .blob(ticketHash),
       .integer(invitation.expiresAt), .blob(invitation.serializedBytes())], conflict: "invitation \(invitation.id) already exists")
  }

  func updateInvitation(_ invitation: Invitation, ticketHash: [UInt8]?) throws {
    try db.run(
      "UPDATE invitations SET invited_email = $2, status = $3, guest_user_id = $4, expires_at = $5, data = $6 WHERE id = $1",
      [.text(invitation.id), .text(invitation.invitedEmail.lowercased()), .int(invitation.status.rawValue), .text(invitation.guestUserID),
       .integer(invitation.expiresAt), .blob(invitation.serializedBytes())])
    if let ticketHash {
      try db.run("UPDATE invitations SET ticket_hash = $2 WHERE id = $1", [.text(invitation.id), ticketHash.isEmpty ? .null : .blob(ticketHash)])
    }
  }

  private func session(_ row: PGRow) -> RedemptionSession {
    RedemptionSession(
      id: row.text(0), invitationID: row.text(1), passcodeHash: row.blob(2), expiresAt: row.int64(3), attempts: Int(row.int64(4)),
      maxAttempts: Int(row.int64(5)), state: RedemptionSession.State(rawValue: row.int64(6)) ?? .closed, createdAt: row.int64(7))
  }

  func redemptionSession(id: String) throws -> RedemptionSession? {
    try db.first(
      "SELECT id, invitation_id, passcode_hash, expires_at, attempts, max_attempts, state, created_at FROM redemption_sessions WHERE id = $1\(lock)",
      [.text(id)], session)
  }

  func latestRedemptionSession(invitationID: String) throws -> RedemptionSession? {
    try db.first(
      """
      SELECT id, invitation_id, passcode_hash, expires_at, attempts, max_attempts, state, created_at FROM redemption_sessions
      WHERE invitation_id = $1 ORDER BY state = 1 DESC, created_at DESC, id DESC LIMIT 1\(lock)
      """, [.text(invitationID)], session)
  }

  func putRedemptionSession(_ session: RedemptionSession) throws {
    try db.run(
      """
      INSERT INTO redemption_sessions (id, invitation_id, passcode_hash, expires_at, attempts, max_attempts, state, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT(id) DO UPDATE SET attempts = excluded.attempts, state = excluded.state, expires_at = excluded.expires_at
      """,
      [.text(session.id), .text(session.invitationID), .blob(session.passcodeHash), .integer(session.expiresAt), .int(session.attempts),
       .int(session.maxAttempts), .integer(session.state.rawValue), .integer(session.createdAt)])
  }

  func countInWindow(key: String, now: Int64, windowMillis: Int64, add: Int) throws -> (count: Int, windowStart: Int64) {
    let start = now - now % max(1, windowMillis)
    // One atomic upsert, committed at once on a session of its own: counts
    // from every guestd add up, and no transaction holds the window's row
    // until it commits (which would make every write of a tenant wait for
    // the one before). The count is taken back if this transaction rolls
    // back, so a refused or failed call costs as it does on SQLite.
    guard let counters, let state else { preconditionFailure("a rate window is counted only in a write transaction") }
    let counted = try counters.runBlocking { session -> Int? in
      try session.reconnectIfNeeded()
      return try session.first(
        """
        INSERT INTO rate_windows AS w (key, window_start, count) VALUES ($1, $2, $3)
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN w.window_start = excluded.window_start THEN w.count + excluded.count ELSE excluded.count END,
          window_start = excluded.window_start
        RETURNING count
        """, [.text(key), .integer(start), .int(add)]
      ) { Int($0.int64(0)) }
    }
    state.charges.append(RateCharge(key: key, windowStart: start, count: add))
    return (counted ?? add, start)
  }
}
