import GuestAccessProto

extension SQLiteDirectory {
  func auditEvents(tenantID: String?, filter: AuditFilter, limit: Int) throws -> [AuditEvent] {
    let query = DirectoryQuery.auditEvents(tenantID: tenantID, filter: filter, limit: limit, dialect: .sqlite)
    return try db.query(query.sql, query.values) { row in
      var event = try decode(AuditEvent.self, row.blob(1))
      event.sequence = row.int64(0)
      return event
    }
  }

  func appendAudit(_ event: AuditEvent) throws -> AuditEvent {
    try db.run(
      "INSERT INTO audit_events (tenant_id, action, actor_id, target_id, occurred_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      [.text(event.tenantID), .int(event.action.rawValue), .text(event.actorID), .text(event.targetID), .integer(event.occurredAt),
       .blob(event.serializedBytes())])
    var stored = event
    stored.sequence = db.lastInsertRowID
    return stored
  }

  func idempotentResult(scope: String, key: String, notBefore: Int64) throws -> (requestHash: [UInt8], response: [UInt8])? {
    try db.first(
      "SELECT request_hash, response FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND created_at >= ?3",
      [.text(scope), .text(key), .integer(notBefore)]
    ) { ($0.blob(0), $0.blob(1)) }
  }

  func saveIdempotentResult(scope: String, key: String, requestHash: [UInt8], response: [UInt8], at: Int64) throws {
    try db.run(
      "INSERT OR REPLACE INTO idempotency_keys (scope, key, request_hash, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
      [.text(scope), .text(key), .blob(requestHash), .blob(response), .integer(at)])
  }

  func purgeIdempotentResults(before: Int64, limit: Int) throws -> Int {
    try db.run(
      """
      DELETE FROM idempotency_keys WHERE (scope, key) IN
        (SELECT scope, key FROM idempotency_keys WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)
      """, [.integer(before), .int(limit)])
  }
}
