import GuestAccessPostgres
import GuestAccessStorage
import Logging

/// Opens the store a `DatabaseLocation` names; the server sees only `DirectoryStore`.
enum StoreOpening {
  /// Opens (creating and migrating) the database (`connections` sessions
  /// for PostgreSQL); `onCommit` gets each
  /// commit's batch size and duration (the storage metrics).
  static func open(
    _ location: DatabaseLocation, connections: Int, logger: Logger, onCommit: @escaping @Sendable (Int, Duration) -> Void
  ) throws -> any DirectoryStore {
    switch location {
    case .sqlite(let path):
      return try SQLiteDirectoryStore(path: path, onCommit: onCommit)
    case .postgres(let uri):
      return try PostgresDirectoryStore(uri: uri, connections: connections, onCommit: onCommit)
    }
  }
}
