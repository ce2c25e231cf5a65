import GuestAccessProto

/// The embedded SQLite implementation of `DirectoryStore`.
public final class SQLiteDirectoryStore: DirectoryStore {
  /// The underlying database (writer + readers, group commit).
  public let database: SQLiteDatabase

  /// Opens or creates the database file at `path` and migrates it.
  public init(path: String, readerCount: Int = 4, onCommit: @escaping @Sendable (Int, Duration) -> Void = { _, _ in }) throws {
    database = try SQLiteDatabase(path: path, migrations: Schema.migrations, readerCount: readerCount, onCommit: onCommit)
  }

  public func read<T: Sendable>(_ body: @escaping @Sendable (any DirectoryReader) throws -> T) async throws -> T {
    try await database.read { connection in try body(SQLiteDirectory(connection)) }
  }

  public func write<T: Sendable>(_ body: @escaping @Sendable (any DirectoryWriter) throws -> T) async throws -> T {
    try await database.write { connection in try body(SQLiteDirectory(connection)) }
  }

  public var authGeneration: UInt64 { database.cacheGeneration }

  public func checkWritable() async -> Bool {
    do {
      try await database.write { connection in
        try connection.run("CREATE TEMP TABLE IF NOT EXISTS health_probe(x)")
      }
      return true
    } catch {
      return false
    }
  }

  public var writeBacklog: Int { database.writeBacklog }

  /// One process owns an SQLite database: it holds every lease.
  public func holdsLease(_ lease: StoreLease) async -> Bool { true }

  /// No other process writes an SQLite database.
  public func observeAuditCommits(_ handler: @escaping @Sendable (Set<String>?) -> Void) {}

  public func close() {
    database.close()
  }
}

/// `DirectoryReader` and `DirectoryWriter` over one SQLite connection.
struct SQLiteDirectory: DirectoryWriter {
  let db: SQLiteConnection

  init(_ db: SQLiteConnection) {
    self.db = db
  }

  func decode<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) throws -> M {
    do {
      return try M(serializedBytes: bytes)
    } catch {
      throw StoreError.corrupt("\(M.protoName): \(error)")
    }
  }

  func undoingOnError<T>(_ body: () throws -> T) throws -> T {
    try db.run("SAVEPOINT nested")
    do {
      let result = try body()
      try db.run("RELEASE nested")
      return result
    } catch {
      try db.run("ROLLBACK TO nested")
      try db.run("RELEASE nested")
      throw error
    }
  }

  /// Translates unique-constraint failures into `StoreError.conflict`.
  func mapConflict<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as SQLiteError where error.isUniqueViolation {
      throw StoreError.conflict(what)
    }
  }
}
