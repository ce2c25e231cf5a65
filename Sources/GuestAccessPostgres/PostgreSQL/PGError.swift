import GuestAccessStorage

/// A PostgreSQL failure: the SQLSTATE, the server's (or libpq's) message and the SQL that failed.
public struct PGError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The five-character SQLSTATE ("23505", "40001", …); "08006" when the connection was lost.
  public var sqlState: String
  /// The message.
  public var message: String
  /// The statement that failed, if any.
  public var sql: String?
  /// Whether the connection broke (the call may not have reached the server).
  public var connectionLost: Bool
  /// Whether the failing statement was the COMMIT itself: a lost connection
  /// then leaves the outcome unknown.
  public var duringCommit: Bool

  /// Creates an error.
  public init(sqlState: String, message: String, sql: String? = nil, connectionLost: Bool = false, duringCommit: Bool = false) {
    self.sqlState = sqlState
    self.message = message
    self.sql = sql
    self.connectionLost = connectionLost
    self.duringCommit = duringCommit
  }

  /// A unique_violation (23505).
  public var isUniqueViolation: Bool { sqlState == "23505" }

  /// A serialization_failure (40001) or deadlock_detected (40P01): the transaction can be run again.
  public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }

  public var description: String {
    "PostgreSQL error \(sqlState): \(message)" + (sql.map { " in \($0)" } ?? "")
  }
}

extension PGError: StorageFailure {
  public var storageCode: String { sqlState }
  /// Lost connections, serialization failures, and the server shutting down or refusing connections.
  public var isTransient: Bool {
    connectionLost || isSerializationFailure || sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") || sqlState == "53300"
  }
  /// Everything but a connection lost during COMMIT left nothing committed:
  /// PostgreSQL rolls back a transaction whose session ends before COMMIT.
  public var provablyNotCommitted: Bool { isTransient && !duringCommit }
}
