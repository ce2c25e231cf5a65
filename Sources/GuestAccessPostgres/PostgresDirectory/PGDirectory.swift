import GuestAccessProto
import GuestAccessStorage

/// What a write transaction collects for its commit.
final class PGTransactionState {
  /// A write changed what authentication reads: the shared generation moves at commit.
  var invalidatesCaches = false
  /// A uniqueness rule refused a write: the transaction runs once more, since
  /// under concurrent transactions the row in the way may have been committed
  /// after this one looked for it (the second run sees it).
  var sawConflict = false
  /// Tenants ("" = the operator's) of the audit events appended: NOTIFYed at commit.
  var auditTenants: Set<String> = []
  /// The provisional (negative) sequence numbers of the audit events
  /// appended, in order: numbered for good by the last statement before COMMIT.
  var pendingAudit: [Int64] = []
  /// Rate-window counts added (each committed at once on a session of its
  /// own): taken back if this transaction, or the savepoint they were added
  /// under, is rolled back.
  var charges: [RateCharge] = []
  /// Idempotency keys found expired in this transaction (they may be replaced).
  var expiredIdempotencyKeys: Set<String> = []
  /// Inserts sent without waiting for their answer, by SQL: what a unique
  /// violation of each means (reported once the transaction ran again).
  var uniqueWrites: [String: String] = [:]
  /// Tenant settings read (and share-locked) with their tenant, by tenant id.
  var settingsRead: [String: TenantSettings] = [:]
}

/// A count added to a rate window.
struct RateCharge {
  var key: String
  var windowStart: Int64
  var count: Int
}

/// `DirectoryReader` and `DirectoryWriter` over one PostgreSQL session: the
/// same queries as the SQLite store in PostgreSQL's dialect. Inside a write
/// transaction (READ COMMITTED), rows read are locked (`FOR UPDATE`) so that
/// a read-modify-write cannot lose a concurrent guestd's update; due outbox
/// messages are claimed with `FOR UPDATE SKIP LOCKED`.
struct PGDirectory: DirectoryWriter {
  let db: PGConnection
  /// nil in a read-only snapshot.
  let state: PGTransactionState?
  /// Sessions on which rate-window counts are added and committed at once,
  /// outside the transaction (nil in a read-only snapshot).
  let counters: PGPool?

  init(_ db: PGConnection, state: PGTransactionState?, counters: PGPool? = nil) {
    self.db = db
    self.state = state
    self.counters = counters
  }

  /// Appended to the single-table SELECTs: row locks in a write transaction.
  var lock: String { state == nil ? "" : " FOR UPDATE" }
  /// The lock of rows nearly every write reads and few change (a tenant, its
  /// settings, domains and cross-tenant entries, a user read by id): shared, so that writes in
  /// one tenant do not wait for each other; a write that changes such a row
  /// still excludes every other reader-writer of it (two of them at once
  /// deadlock, and one is run again).
  var shareLock: String { state == nil ? "" : " FOR SHARE" }
  /// Appended after `lock` where another guestd's locked rows are to be passed over.
  var skipLocked: String { state == nil ? "" : " SKIP LOCKED" }

  func markInvalidatesCaches() {
    state?.invalidatesCaches = true
  }

  func decode<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) throws -> M {
    do {
      return try M(serializedBytes: bytes)
    } catch {
      throw StoreError.corrupt("\(M.protoName): \(error)")
    }
  }

  /// Sends an INSERT without waiting for its answer (with the next statement
  /// that needs one, or the COMMIT); a unique violation aborts the
  /// transaction, which runs once more and then reports `what`.
  func insert(_ sql: String, _ values: [PGValue], conflict what: String? = nil) throws {
    if let what { state?.uniqueWrites[sql] = what }
    try db.enqueue(sql, values)
  }

  /// Records a uniqueness conflict and throws it.
  func conflict(_ what: String) throws -> Never {
    state?.sawConflict = true
    throw StoreError.conflict(what)
  }

  func undoingOnError<T>(_ body: () throws -> T) throws -> T {
    db.enqueue(command: "SAVEPOINT nested")
    let charged = state?.charges.count ?? 0
    let settingsRead = state?.settingsRead
    do {
      let result = try body()
      // Waited for: an error of a write in `body` sent without waiting is undone here too.
      try db.execute("RELEASE SAVEPOINT nested")
      return result
    } catch {
      try db.execute("ROLLBACK TO SAVEPOINT nested")
      db.enqueue(command: "RELEASE SAVEPOINT nested")
      if let settingsRead { state?.settingsRead = settingsRead }
      if let state, state.charges.count > charged {
        let undone = Array(state.charges[charged...])
        state.charges.removeLast(undone.count)
        // Best effort: the error being undone is the one to report.
        try? counters?.runBlocking { try Self.refund(undone, on: $0) }
      }
      throw error
    }
  }

  /// Takes back rate-window counts (committed at once).
  static func refund(_ charges: [RateCharge], on session: PGConnection) throws {
    try session.reconnectIfNeeded()
    for charge in charges {
      try session.run(
        "UPDATE rate_windows SET count = greatest(count - $3, 0) WHERE key = $1 AND window_start = $2",
        [.text(charge.key), .integer(charge.windowStart), .int(charge.count)])
    }
  }

  /// Translates unique-violation errors of an UPDATE into `StoreError.conflict`
  /// (the transaction is then aborted: it runs again, or fails with the conflict).
  func mapConflict<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as PGError where error.isUniqueViolation {
      try conflict(what)
    }
  }
}
