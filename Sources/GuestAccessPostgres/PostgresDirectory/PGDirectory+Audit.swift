import GuestAccessStorage
import GuestAccessProto

extension PGDirectory {
  func auditEvents(tenantID: String?, filter: AuditFilter, limit: Int) throws -> [AuditEvent] {
    let query = DirectoryQuery.auditEvents(tenantID: tenantID, filter: filter, limit: limit, dialect: .postgres)
    return try db.rows(query.sql, query.values.map(PGValue.init)) { row in
      var event = try decode(AuditEvent.self, row.blob(1))
      event.sequence = row.int64(0)
      return event
    }
  }

  func appendAudit(_ event: AuditEvent) throws -> AuditEvent {
    // Stored under a provisional negative number, unique and never visible
    // to another session; the commit numbers it (`finalStatements`).
    guard let state else { preconditionFailure("an audit event is appended only in a write transaction") }
    let pending = try db.first(
      """
      INSERT INTO audit_events (sequence, tenant_id, action, actor_id, target_id, occurred_at, data)
      VALUES (-nextval('audit_pending_sequence'), $1, $2, $3, $4, $5, $6) RETURNING sequence
      """,
      [.text(event.tenantID), .int(event.action.rawValue), .text(event.actorID), .text(event.targetID), .integer(event.occurredAt),
       .blob(event.serializedBytes())]
    ) { $0.int64(0) }
    if let pending { state.pendingAudit.append(pending) }
    state.auditTenants.insert(event.tenantID)
    // Its sequence number is known only once committed.
    var stored = event
    stored.sequence = 0
    return stored
  }

  /// The statements run with COMMIT, in its round trip, for what `state`
  /// collected: the audit events appended get their sequence numbers (the
  /// counter row is taken here, so its lock is held only while this commit
  /// is flushed: numbers still commit in order, and a follower reading after
  /// the last number it saw never skips one), their tenants are NOTIFYed,
  /// and the authentication generation moves. Only numbers and fixed names
  /// are written into the SQL.
  static func finalStatements(_ state: PGTransactionState) -> String {
    var statements: [String] = []
    if state.invalidatesCaches {
      statements.append(
        "WITH g AS (UPDATE auth_generation SET value = value + 1 WHERE id = 1 RETURNING value) SELECT pg_notify('\(PostgresDirectoryStore.authChannel)', value::text) FROM g")
    }
    if !state.pendingAudit.isEmpty {
      // Events undone by a savepoint are gone: number those still there, in the order appended.
      let pending = "'{" + state.pendingAudit.map(String.init).joined(separator: ",") + "}'::bigint[]"
      statements.append(
        """
        WITH mine AS (
          SELECT sequence AS pending, row_number() OVER (ORDER BY sequence DESC) AS ord, count(*) OVER () AS total
          FROM audit_events WHERE sequence = ANY(\(pending))),
        next AS (UPDATE audit_sequence SET value = value + (SELECT count(*) FROM mine) WHERE id = 1 RETURNING value),
        numbered AS (
          UPDATE audit_events a SET sequence = next.value - mine.total + mine.ord FROM next, mine WHERE a.sequence = mine.pending
          RETURNING a.tenant_id)
        SELECT pg_notify('\(PostgresDirectoryStore.auditChannel)', t) FROM (SELECT DISTINCT tenant_id AS t FROM numbered) AS tenants
        """)
    }
    return statements.joined(separator: "; ")
  }


  func idempotentResult(scope: String, key: String, notBefore: Int64) throws -> (requestHash: [UInt8], response: [UInt8])? {
    guard let stored = try db.first(
      "SELECT request_hash, response, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2\(lock)", [.text(scope), .text(key)],
      { ($0.blob(0), $0.blob(1), $0.int64(2)) })
    else { return nil }
    guard stored.2 >= notBefore else {
      // Expired: this transaction may replace it.
      state?.expiredIdempotencyKeys.insert(scope + "\u{0}" + key)
      return nil
    }
    return (stored.0, stored.1)
  }

  func saveIdempotentResult(scope: String, key: String, requestHash: [UInt8], response: [UInt8], at: Int64) throws {
    let values: [PGValue] = [.text(scope), .text(key), .blob(requestHash), .blob(response), .integer(at)]
    if state?.expiredIdempotencyKeys.contains(scope + "\u{0}" + key) == true {
      try db.run(
        "UPDATE idempotency_keys SET request_hash = $3, response = $4, created_at = $5 WHERE scope = $1 AND key = $2", values)
      return
    }
    let inserted = try db.run(
      "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
      values)
    // Another process stored a result under this key since this transaction
    // looked: run again, and replay that result.
    if inserted == 0 { try conflict("idempotency key \(key.prefix(128)) is in use") }
  }

  func purgeIdempotentResults(before: Int64, limit: Int) throws -> Int {
    try db.run(
      """
      DELETE FROM idempotency_keys WHERE (scope, key) IN
        (SELECT scope, key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      """, [.integer(before), .int(limit)])
  }
}
