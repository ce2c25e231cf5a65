/// An outbox message as both stores keep it in the `outbox` table: one
/// column list and one mapping, whatever the SQL dialect.
extension OutboxMessage {
  /// The columns `init(storedRow:_:)` reads, in its order.
  public static let storedColumns =
    "id, tenant_id, invitation_id, kind, recipient, cc, status, attempts, next_attempt_at, last_error, created_at, sent_at, payload"
  /// The INSERT of a new row in `dialect`; its parameters are `insertValues`.
  public static func insert(_ dialect: SQLDialect) -> String {
    let columns = storedColumns.split(separator: ",").dropFirst()
    return "INSERT INTO outbox (\(columns.joined(separator: ",").dropFirst())) VALUES ("
      + (1...columns.count).map(dialect.placeholder).joined(separator: ", ") + ")"
  }

  /// A row selected with `storedColumns`, read column by column (index from 0) with `text` and `integer`.
  public init(storedRow text: (Int) -> String, _ integer: (Int) -> Int64) {
    self.init(
      tenantID: text(1), invitationID: text(2), kind: Kind(rawValue: text(3)) ?? .invitation, recipient: text(4), cc: text(5),
      createdAt: integer(10), payload: OutboxPayload(encoded: text(12)))
    id = integer(0)
    status = Status(rawValue: integer(6)) ?? .failed
    attempts = Int(integer(7))
    nextAttemptAt = integer(8)
    lastError = text(9)
    sentAt = integer(11)
  }

  /// The values of a new row (`storedColumns` without `id`, in order).
  public var insertValues: [SQLiteValue] {
    [.text(tenantID), .text(invitationID), .text(kind.rawValue), .text(recipient), .text(cc), .integer(status.rawValue), .int(attempts),
     .integer(nextAttemptAt), .text(lastError), .integer(createdAt), .integer(sentAt), .text(payload.encoded)]
  }

  /// The delivery state an attempt changes: `id`, then status, attempts,
  /// next_attempt_at, last_error, sent_at and payload (`deliveryUpdate`'s parameters).
  public var deliveryValues: [SQLiteValue] {
    [.integer(id), .integer(status.rawValue), .int(attempts), .integer(nextAttemptAt), .text(lastError), .integer(sentAt), .text(payload.encoded)]
  }

  /// The UPDATE of a row's delivery state in `dialect`; its parameters are `deliveryValues`.
  public static func deliveryUpdate(_ dialect: SQLDialect) -> String {
    let columns = ["status", "attempts", "next_attempt_at", "last_error", "sent_at", "payload"]
    return "UPDATE outbox SET " + columns.enumerated().map { "\($1) = \(dialect.placeholder($0 + 2))" }.joined(separator: ", ")
      + " WHERE id = \(dialect.placeholder(1))"
  }
}
