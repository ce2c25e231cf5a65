import GuestAccessStorage

/// Applies `Schema.migrations` (rendered for PostgreSQL) to a database, one
/// process at a time (an advisory lock), each migration in its own
/// transaction with its row in `guestaccess_migrations`.
///
/// A database made before the backends shared one list recorded its own
/// versions (1–5) in `guestaccess_schema`; it is taken to be at the shared
/// version with the same layout (`legacyVersions`) and the later migrations
/// run on it. Version 10 makes what that release's version 2 made, so it is
/// written to run again on what such a database already has.
/// `guestaccess_schema` is left as it is, so a guestd of that release still
/// starts beside this one during a rolling upgrade.
enum PGMigrator {
  /// The advisory lock key: "GA" and zero.
  static let lockKey: Int64 = 0x4741_0000_0000_0000

  /// The shared version each version of the release before reached: its
  /// version 1 made the layout of version 6 at once, 3–5 are 7–9, and 2
  /// (audit numbering, commit flushes) is part of 10.
  static let legacyVersions: [Int64: Int64] = [1: 6, 2: 6, 3: 7, 4: 8, 5: 9]

  static func migrate(uri: String) throws {
    let connection = try PGConnection(uri: uri)
    try connection.execute("SET client_min_messages = warning")
    try connection.execute("SELECT pg_advisory_lock(\(lockKey))")
    defer { try? connection.execute("SELECT pg_advisory_unlock_all()") }
    try connection.execute(
      "CREATE TABLE IF NOT EXISTS guestaccess_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
    var current = try connection.first("SELECT coalesce(max(version), 0) FROM guestaccess_migrations") { $0.int64(0) } ?? 0
    if current == 0, try connection.first("SELECT to_regclass('guestaccess_schema') IS NOT NULL") { $0.int64(0) } == 1,
      let legacy = try connection.first("SELECT max(version) FROM guestaccess_schema", [], { $0.isNull(0) ? nil : $0.int64(0) }) ?? nil
    {
      guard let reached = legacyVersions[legacy] else {
        throw PGError(sqlState: "XX000", message: "database schema version \(legacy) (guestaccess_schema) is not one this guestd can upgrade")
      }
      current = reached
      try transaction(connection) {
        try record(Schema.migrations.filter { Int64($0.version) <= reached }, on: connection)
      }
    }
    let sorted = Schema.migrations.sorted { $0.version < $1.version }
    if let newest = sorted.last, current > newest.version {
      throw PGError(sqlState: "XX000", message: "database schema version \(current) is newer than this guestd (\(newest.version))")
    }
    for migration in sorted where migration.version > current {
      try transaction(connection) {
        let sql = migration.sql(for: .postgres)
        if !sql.isEmpty { try connection.execute(sql) }
        try record([migration], on: connection)
      }
    }
  }

  private static func transaction(_ connection: PGConnection, _ body: () throws -> Void) throws {
    try connection.execute("BEGIN")
    do {
      try body()
      try connection.execute("COMMIT")
    } catch {
      connection.rollback()
      throw error
    }
  }

  private static func record(_ migrations: [Migration], on connection: PGConnection) throws {
    for migration in migrations {
      try connection.run(
        "INSERT INTO guestaccess_migrations (version, name) VALUES ($1, $2)", [.int(migration.version), .text(migration.name)])
    }
  }
}
