/// An SQLite failure: the result code, SQLite's message and the SQL that failed.
public struct SQLiteError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The (extended) result code, e.g. 19 (SQLITE_CONSTRAINT) or 2067 (SQLITE_CONSTRAINT_UNIQUE).
  public var resultCode: Int32
  /// SQLite's error message.
  public var message: String
  /// The statement that failed, if any.
  public var sql: String?

  /// Creates an error.
  public init(resultCode: Int32, message: String, sql: String? = nil) {
    self.resultCode = resultCode
    self.message = message
    self.sql = sql
  }

  /// The primary result code (the low byte).
  public var primaryCode: Int32 { resultCode & 0xFF }

  /// Whether the error is a UNIQUE or PRIMARY KEY constraint violation.
  public var isUniqueViolation: Bool { resultCode == 2067 || resultCode == 1555 }

  /// Whether the database is busy or locked.
  public var isBusy: Bool { primaryCode == 5 || primaryCode == 6 }

  public var description: String {
    "SQLite error \(resultCode): \(message)" + (sql.map { " in \($0)" } ?? "")
  }
}

extension SQLiteError: StorageFailure {
  public var storageCode: String { String(resultCode) }
  public var isTransient: Bool { isBusy }
  /// Left false: a busy SQLite write is reported as before (UNAVAILABLE, retry).
  public var provablyNotCommitted: Bool { false }
}
