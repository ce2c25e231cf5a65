extension SQLiteDirectory: OutboxReader {
  private static let deliveryColumns =
    "id, tenant_id, invitation_id, kind, recipient, cc, status, attempts, next_attempt_at, last_error, created_at, sent_at, payload"

  private func deliveryMessage(_ row: SQLiteStatement) -> OutboxMessage {
    var message = OutboxMessage(
      tenantID: row.text(1), invitationID: row.text(2), kind: OutboxMessage.Kind(rawValue: row.text(3)) ?? .invitation,
      recipient: row.text(4), cc: row.text(5), createdAt: row.int64(10), payload: OutboxMessage.decode(row.text(12)))
    message.id = row.int64(0)
    message.status = OutboxMessage.Status(rawValue: row.int64(6)) ?? .failed
    message.attempts = Int(row.int64(7))
    message.nextAttemptAt = row.int64(8)
    message.lastError = row.text(9)
    message.sentAt = row.int64(11)
    return message
  }

  func outboxMessage(id: Int64) throws -> OutboxMessage? {
    try db.first("SELECT \(Self.deliveryColumns) FROM outbox WHERE id = ?1", [.integer(id)], deliveryMessage)
  }

  func latestOutboxMessage(invitationID: String, kind: OutboxMessage.Kind) throws -> OutboxMessage? {
    try db.first(
      "SELECT \(Self.deliveryColumns) FROM outbox WHERE invitation_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
      [.text(invitationID), .text(kind.rawValue)], deliveryMessage)
  }
}
