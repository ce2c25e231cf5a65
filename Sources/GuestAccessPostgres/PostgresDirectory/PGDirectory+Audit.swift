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
    // The counter row stays locked until this transaction ends: sequence
    // numbers commit in the order they are taken, with no gap.
    let sequence = try db.first(
      """
      WITH next AS (UPDATE audit_sequence SET value = value + 1 WHERE id = 1 RETURNING value)
      INSERT INTO audit_events (sequence, tenant_id, action, actor_id, target_id, occurred_at, data)
      SELECT value, $1, $2, $3, $4, $5, $6 FROM next RETURNING sequence
      """,
      [.text(event.tenantID), .int(event.action.rawValue), .text(event.actorID), .text(event.targetID), .integer(event.occurredAt),
       .blob(event.serializedBytes())]
    ) { $0.int64(0) }
    state?.auditTenants.insert(event.tenantID)
    var stored = event
    stored.sequence = sequence ?? 0
    return stored
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
