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
  /// Idempotency keys found expired in this transaction (they may be replaced).
  var expiredIdempotencyKeys: Set<String> = []
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

  init(_ db: PGConnection, state: PGTransactionState?) {
    self.db = db
    self.state = state
  }

  /// Appended to the single-table SELECTs: row locks in a write transaction.
  var lock: String { state == nil ? "" : " FOR UPDATE" }
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

  /// Records a uniqueness conflict and throws it.
  func conflict(_ what: String) throws -> Never {
    state?.sawConflict = true
    throw StoreError.conflict(what)
  }

  func undoingOnError<T>(_ body: () throws -> T) throws -> T {
    try db.execute("SAVEPOINT nested")
    do {
      let result = try body()
      try db.execute("RELEASE SAVEPOINT nested")
      return result
    } catch {
      try db.execute("ROLLBACK TO SAVEPOINT nested")
      try db.execute("RELEASE SAVEPOINT nested")
      throw error
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
