#if canImport(Glibc)
import Glibc
#endif
import GuestAccessStorage
import GuestAccessProto

extension PGDirectory {
  func auditEvents(tenantID: String?, filter: AuditFilter, limit: Int) throws -> [AuditEvent] {
    let query = DirectoryQuery.auditEvents(tenantID: tenantID, filter: filter, limit: limit, dialect: .postgres)
    let events = try db.rows(query.sql, query.values.map(PGValue.init)) { row in
      var event = try decode(AuditEvent.self, row.blob(1))
      event.sequence = row.int64(0)
      return event
    }
    if !events.isEmpty { try waitForDurability() }
    return events
  }

  func appendAudit(_ event: AuditEvent) throws -> AuditEvent {
    // Stored under a provisional negative number, never visible to another
    // session: the session's server process and the event's place in the
    // transaction (no two live sessions share a process, and one session
    // runs one transaction at a time), so it is sent without waiting. The
    // commit numbers it (`finalStatements`).
    guard let state else { preconditionFailure("an audit event is appended only in a write transaction") }
    let pending = -(Int64(db.backendPID) << 24 | Int64(state.pendingAudit.count + 1))
    try insert(
      """
      INSERT INTO audit_events (sequence, tenant_id, action, actor_id, target_id, occurred_at, data)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      """,
      [.integer(pending), .text(event.tenantID), .int(event.action.rawValue), .text(event.actorID), .text(event.targetID),
       .integer(event.occurredAt), .blob(event.serializedBytes())])
    state.pendingAudit.append(pending)
    state.auditTenants.insert(event.tenantID)
    // Its sequence number is known only once committed.
    var stored = event
    stored.sequence = 0
    return stored
  }

  /// The statements run with COMMIT, in its round trip, for what `state`
  /// collected: the authentication generation moves, the audit events
  /// appended get their sequence numbers from the counter row and their
  /// tenants are NOTIFYed. Only numbers and fixed names are written into the SQL.
  ///
  /// The counter row must be locked until the commit (so numbers commit in
  /// order and a follower reading after the last number it saw never skips
  /// one) but not for a WAL flush each, which would let one transaction with
  /// events commit at a time: a transaction with events commits without
  /// waiting for its flush (`synchronous_commit` off, releasing the row as
  /// soon as the commit is recorded), then a one-row write of this session's
  /// own, committed with the usual wait, flushes the WAL up to and past that
  /// commit before the call is answered; concurrent transactions share those
  /// flushes. Readers of the audit log wait for the flush of what they read
  /// (`waitForDurability`), so no follower sees an event a crash could take back.
  static func finalStatements(_ state: PGTransactionState) -> (statements: [String], afterwards: [String]) {
    var statements: [String] = []
    var afterwards: [String] = []
    if state.invalidatesCaches {
      statements.append(
        "WITH g AS (UPDATE auth_generation SET value = value + 1 WHERE id = 1 RETURNING value) SELECT pg_notify('\(PostgresDirectoryStore.authChannel)', value::text) FROM g")
    }
    if !state.pendingAudit.isEmpty {
      // Events undone by a savepoint are gone: number those still there, in the order appended.
      let pending = "'{" + state.pendingAudit.map(String.init).joined(separator: ",") + "}'::bigint[]"
      statements.insert("SET LOCAL synchronous_commit TO off", at: 0)
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
      afterwards.append(flushStatement)
    }
    return (statements, afterwards)
  }

  /// A write of this session's own row (no other live session shares it),
  /// committed with a wait for its WAL flush: everything this session
  /// committed before is then durable too.
  static let flushStatement =
    "INSERT INTO commit_flush (slot, commits) VALUES (pg_backend_pid() % 65536, 1) ON CONFLICT (slot) DO UPDATE SET commits = commit_flush.commits + 1"

  /// Waits until the WAL is flushed past every commit this snapshot sees
  /// (commits with audit events are visible a moment before their flush).
  func waitForDurability() throws {
    guard let visible = try db.first("SELECT pg_current_wal_insert_lsn()::text", [], { $0.text(0) }) else { return }
    let deadline = ContinuousClock.now + .seconds(5)
    while try db.first("SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn", [.text(visible)], { $0.int64(0) }) != 1 {
      guard ContinuousClock.now < deadline else {
        throw PGError(sqlState: "57014", message: "the WAL was not flushed within 5 s")
      }
      usleep(200)
    }
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
