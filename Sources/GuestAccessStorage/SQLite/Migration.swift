/// One schema version: the SQL that moves the database to it.
public struct Migration: Sendable {
  /// The version reached (1, 2, ...), stored in `PRAGMA user_version`.
  public var version: Int
  /// What the migration does.
  public var name: String
  /// The statements.
  public var sql: String
  /// Runs after `sql` in the same transaction: fills new columns or tables
  /// from data SQL cannot read (such as the protobuf `data` blobs).
  public var backfill: (@Sendable (SQLiteConnection) throws -> Void)?

  /// Creates a migration.
  public init(version: Int, name: String, sql: String, backfill: (@Sendable (SQLiteConnection) throws -> Void)? = nil) {
    self.version = version
    self.name = name
    self.sql = sql
    self.backfill = backfill
  }
}

/// Applies the migrations above the database's `user_version`, each in its own transaction.
struct Migrator {
  let migrations: [Migration]

  func migrate(_ connection: SQLiteConnection) throws {
    let current = try connection.pragma("user_version")
    let sorted = migrations.sorted { $0.version < $1.version }
    if let newest = sorted.last, current > newest.version {
      throw SQLiteError(resultCode: 1, message: "database schema version \(current) is newer than this guestd (\(newest.version))")
    }
    for migration in sorted where migration.version > current {
      try connection.execute("BEGIN IMMEDIATE")
      do {
        try connection.execute(migration.sql)
        try migration.backfill?(connection)
        try connection.execute("PRAGMA user_version = \(migration.version)")
        try connection.execute("COMMIT")
      } catch {
        try? connection.execute("ROLLBACK")
        throw error
      }
    }
  }
}
