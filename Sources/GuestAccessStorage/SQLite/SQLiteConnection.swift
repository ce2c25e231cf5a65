import CSQLite

/// One SQLite connection with a cache of prepared statements. It belongs to
/// one thread at a time (the database's writer or one of its readers).
public final class SQLiteConnection {
  let handle: OpaquePointer
  /// The database file.
  public let path: String
  private var cache: [String: SQLiteStatement] = [:]
  /// Set by writes that make cached derived state stale; see `markInvalidatesCaches()`.
  private(set) var invalidatesCaches = false

  /// Frames in the WAL after the last commit, when tracked (`trackWALFrames()`).
  private var walFrameCount: UnsafeMutablePointer<Int32>?

  /// Process-wide SQLite configuration, applied once before the first connection opens.
  private static let configured: Void = { _ = ga_sqlite3_disable_memstatus() }()

  /// Opens (creating if asked) the database at `path`.
  public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
    self.path = path
    Self.configured
    var db: OpaquePointer?
    let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
    let code = sqlite3_open_v2(path, &db, flags, nil)
    guard code == SQLITE_OK, let db else {
      let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
      if let db { sqlite3_close_v2(db) }
      throw SQLiteError(resultCode: code, message: message, sql: nil)
    }
    handle = db
    sqlite3_extended_result_codes(db, 1)
    sqlite3_busy_timeout(db, 5000)
  }

  deinit {
    cache.removeAll()
    if walFrameCount != nil { ga_sqlite3_untrack_wal_frames(handle) }
    sqlite3_close_v2(handle)
    walFrameCount?.deallocate()
  }

  /// Turns off automatic checkpoints on this connection and tracks the WAL's
  /// size instead (`walFrames`), so another connection can checkpoint.
  public func trackWALFrames() throws(SQLiteError) {
    try execute("PRAGMA wal_autocheckpoint=0")
    let frames = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    frames.initialize(to: 0)
    walFrameCount = frames
    ga_sqlite3_track_wal_frames(handle, frames)
  }

  /// Frames in the WAL after this connection's last commit (0 unless tracked).
  public var walFrames: Int { walFrameCount.map { Int($0.pointee) } ?? 0 }

  /// Records that the current write changes data that in-memory caches
  /// derive from (credentials, users, tenants, access rules): when its
  /// transaction commits, `SQLiteDatabase.cacheGeneration` moves on.
  public func markInvalidatesCaches() {
    invalidatesCaches = true
  }

  /// Returns and clears the mark (the writer, after a commit or a rollback).
  func takeCacheInvalidation() -> Bool {
    defer { invalidatesCaches = false }
    return invalidatesCaches
  }

  var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }

  func error(_ code: Int32, sql: String?) -> SQLiteError {
    SQLiteError(resultCode: sqlite3_extended_errcode(handle), message: lastErrorMessage, sql: sql)
  }

  /// Runs one or more statements that return no rows.
  public func execute(_ sql: String) throws(SQLiteError) {
    let code = sqlite3_exec(handle, sql, nil, nil, nil)
    guard code == SQLITE_OK else { throw error(code, sql: sql) }
  }

  /// A cached prepared statement for `sql`, reset and ready to bind.
  public func cached(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
    if let statement = cache[sql] {
      statement.reset()
      return statement
    }
    let statement = try SQLiteStatement(connection: self, sql: sql, persistent: true)
    cache[sql] = statement
    return statement
  }

  /// Runs a statement that returns no rows; returns the number of changed rows.
  @discardableResult
  public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int {
    let statement = try cached(sql)
    defer { statement.reset() }
    try statement.bind(values)
    while try statement.step() {}
    return Int(sqlite3_changes(handle))
  }

  /// Runs a query and maps each row.
  public func query<T>(_ sql: String, _ values: [SQLiteValue] = [], _ row: (SQLiteStatement) throws -> T) throws -> [T] {
    let statement = try cached(sql)
    defer { statement.reset() }
    try statement.bind(values)
    var result: [T] = []
    while try statement.step() { result.append(try row(statement)) }
    return result
  }

  /// Runs a query and maps the first row, if any.
  public func first<T>(_ sql: String, _ values: [SQLiteValue] = [], _ row: (SQLiteStatement) throws -> T) throws -> T? {
    let statement = try cached(sql)
    defer { statement.reset() }
    try statement.bind(values)
    guard try statement.step() else { return nil }
    return try row(statement)
  }

  /// The rowid of the last insert.
  public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

  /// Whether the connection is inside a transaction.
  public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

  /// Reads an integer pragma.
  public func pragma(_ name: String) throws -> Int64 {
    try first("PRAGMA \(name)") { $0.int64(0) } ?? 0
  }

  /// Reads a text pragma.
  public func pragmaText(_ name: String) throws -> String {
    try first("PRAGMA \(name)") { $0.text(0) } ?? ""
  }
}
