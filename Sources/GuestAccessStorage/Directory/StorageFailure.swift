/// A failure of a store's database (not of the data): what the services need
/// to choose a status code, whatever the backend.
public protocol StorageFailure: Error, CustomStringConvertible {
  /// The backend's code (SQLite result code, PostgreSQL SQLSTATE), for the message.
  var storageCode: String { get }
  /// Whether the operation may succeed if tried again (busy, lost connection).
  var isTransient: Bool { get }
  /// Whether the write provably did not commit (the connection was lost
  /// before COMMIT was sent, or the database refused it): the caller may retry
  /// it as if it had never been made.
  var provablyNotCommitted: Bool { get }
}
