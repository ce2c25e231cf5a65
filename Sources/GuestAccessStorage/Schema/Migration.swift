/// One schema version of the GuestAccess database, for both backends: the
/// SQL that moves a database to it, written once (SQLite's SQL, rendered for
/// PostgreSQL by `sql(for:)`), and what only one backend needs.
///
/// Both stores run the one list, `Schema.migrations`, in order: SQLite
/// records the version reached in `PRAGMA user_version`, PostgreSQL in the
/// table `guestaccess_migrations`.
public struct Migration: Sendable {
  /// The version reached (1, 2, ...).
  public var version: Int
  /// What the migration does.
  public var name: String
  /// The statements, in SQLite's SQL with the column types written
  /// `TEXT`, `INTEGER` and `BLOB` (upper case) and `INTEGER PRIMARY KEY
  /// AUTOINCREMENT` for a generated key; empty for none.
  public var sql: String
  /// The backend it is for, if only one (nil: both).
  public var only: SQLDialect?
  /// Runs after `sql` in the same transaction, on SQLite: fills new columns
  /// or tables from data SQL cannot read (such as the protobuf `data`
  /// blobs). A PostgreSQL database never held the layouts before version 6
  /// (its first release made that layout at once), so no backfill runs there.
  public var backfill: (@Sendable (SQLiteConnection) throws -> Void)?

  /// Creates a migration.
  public init(
    version: Int, name: String, sql: String, only: SQLDialect? = nil, backfill: (@Sendable (SQLiteConnection) throws -> Void)? = nil
  ) {
    self.version = version
    self.name = name
    self.sql = sql
    self.only = only
    self.backfill = backfill
  }

  /// The statements for `dialect` ("" when there is nothing to run).
  ///
  /// For PostgreSQL: `TEXT` becomes `text COLLATE "C"` (text compares
  /// byte-wise, as in SQLite, whatever the database's locale, so cursors over
  /// ids page the same way on both backends), `INTEGER` `bigint`, `BLOB`
  /// `bytea`, `INTEGER PRIMARY KEY AUTOINCREMENT` `bigserial PRIMARY KEY`,
  /// and `WITHOUT ROWID` goes.
  public func sql(for dialect: SQLDialect) -> String {
    if let only, only != dialect { return "" }
    switch dialect {
    case .sqlite:
      return sql
    case .postgres:
      return Self.postgresRendering.reduce(sql) { text, rule in text.replacingWords(rule.word, with: rule.replacement) }
    }
  }

  /// The words rewritten for PostgreSQL, in order.
  private static let postgresRendering: [(word: String, replacement: String)] = [
    ("INTEGER PRIMARY KEY AUTOINCREMENT", "bigserial PRIMARY KEY"),
    (" WITHOUT ROWID", ""),
    ("TEXT", "text COLLATE \"C\""),
    ("INTEGER", "bigint"),
    ("BLOB", "bytea"),
  ]
}

extension String {
  /// Replaces `word` where it stands as a whole word (not inside an identifier).
  fileprivate func replacingWords(_ word: String, with replacement: String) -> String {
    let text = Array(self)
    let pattern = Array(word)
    var result = ""
    var index = 0
    while index < text.count {
      let end = index + pattern.count
      if end <= text.count && text[index..<end].elementsEqual(pattern)
        && (index == 0 || !Self.isIdentifierCharacter(text[index - 1]))
        && (end == text.count || !Self.isIdentifierCharacter(text[end]))
      {
        result += replacement
        index = end
      } else {
        result.append(text[index])
        index += 1
      }
    }
    return result
  }

  private static func isIdentifierCharacter(_ character: Character) -> Bool {
    character.isLetter || character.isNumber || character == "_"
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
        let sql = migration.sql(for: .sqlite)
        if !sql.isEmpty { try connection.execute(sql) }
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
