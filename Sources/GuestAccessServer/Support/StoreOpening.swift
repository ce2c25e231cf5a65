import GuestAccessStorage
import Logging

/// Opens the store a `DatabaseLocation` names; the server sees only `DirectoryStore`.
enum StoreOpening {
  /// Opens (creating and migrating) the database; `onCommit` gets each
  /// commit's batch size and duration (the storage metrics).
  static func open(
    _ location: DatabaseLocation, logger: Logger, onCommit: @escaping @Sendable (Int, Duration) -> Void
  ) throws -> any DirectoryStore {
    switch location {
    case .sqlite(let path):
      return try SQLiteDirectoryStore(path: path, onCommit: onCommit)
    case .postgres:
      throw SettingsError("PostgreSQL is not supported by this build")
    }
  }
}
