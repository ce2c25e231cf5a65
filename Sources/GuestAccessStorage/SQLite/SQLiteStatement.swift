import CSQLite

/// A prepared statement, finalised when released. Not thread-safe: it belongs
/// to its connection's thread.
public final class SQLiteStatement {
  let handle: OpaquePointer
  /// The SQL text.
  public let sql: String
  private unowned let connection: SQLiteConnection

  init(connection: SQLiteConnection, sql: String, persistent: Bool) throws(SQLiteError) {
    self.connection = connection
    self.sql = sql
    var statement: OpaquePointer?
    let flags: UInt32 = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
    let code = sqlite3_prepare_v3(connection.handle, sql, -1, flags, &statement, nil)
    guard code == SQLITE_OK, let statement else {
      throw SQLiteError(resultCode: code, message: connection.lastErrorMessage, sql: sql)
    }
    handle = statement
  }

  deinit {
    sqlite3_finalize(handle)
  }

  /// Resets the statement and clears its bindings.
  public func reset() {
    sqlite3_reset(handle)
    sqlite3_clear_bindings(handle)
  }

  /// Binds values to `?1`, `?2`, ... in order.
  public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
    for (offset, value) in values.enumerated() {
      let index = Int32(offset + 1)
      let code: Int32
      switch value {
      case .null: code = sqlite3_bind_null(handle, index)
      case .integer(let number): code = sqlite3_bind_int64(handle, index, number)
      case .real(let number): code = sqlite3_bind_double(handle, index, number)
      case .text(let text):
        var text = text
        code = text.withUTF8 { utf8 -> Int32 in
          guard let base = utf8.baseAddress, utf8.count > 0 else { return ga_sqlite3_bind_text(handle, index, "", 0) }
          return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) { ga_sqlite3_bind_text(handle, index, $0, Int32(utf8.count)) }
        }
      case .blob(let bytes):
        code = bytes.withUnsafeBytes { raw in
          ga_sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(raw.count))
        }
      }
      guard code == SQLITE_OK else { throw connection.error(code, sql: sql) }
    }
  }

  /// Steps once; true when a row is available.
  public func step() throws(SQLiteError) -> Bool {
    let code = sqlite3_step(handle)
    switch code {
    case SQLITE_ROW: return true
    case SQLITE_DONE: return false
    default: throw connection.error(code, sql: sql)
    }
  }

  /// Number of result columns.
  public var columnCount: Int { Int(sqlite3_column_count(handle)) }

  /// An integer column (0 for NULL).
  public func int64(_ column: Int) -> Int64 { sqlite3_column_int64(handle, Int32(column)) }

  /// A text column ("" for NULL).
  public func text(_ column: Int) -> String {
    guard let pointer = sqlite3_column_text(handle, Int32(column)) else { return "" }
    let count = Int(sqlite3_column_bytes(handle, Int32(column)))
    return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
  }

  /// A blob column (empty for NULL).
  public func blob(_ column: Int) -> [UInt8] {
    let count = Int(sqlite3_column_bytes(handle, Int32(column)))
    guard count > 0, let pointer = sqlite3_column_blob(handle, Int32(column)) else { return [] }
    return Array(UnsafeRawBufferPointer(start: pointer, count: count))
  }

  /// Whether a column is NULL.
  public func isNull(_ column: Int) -> Bool { sqlite3_column_type(handle, Int32(column)) == SQLITE_NULL }
}
