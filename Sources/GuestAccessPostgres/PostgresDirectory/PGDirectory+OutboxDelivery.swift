import GuestAccessStorage
extension PGDirectory: OutboxReader {
  func outboxMessage(id: Int64) throws -> OutboxMessage? {
    try db.first("SELECT \(Self.outboxColumns) FROM outbox WHERE id = $1\(lock)\(skipLocked)", [.integer(id)], outboxMessage)
  }

  func latestOutboxMessage(invitationID: String, kind: OutboxMessage.Kind) throws -> OutboxMessage? {
    try db.first(
      "SELECT \(Self.outboxColumns) FROM outbox WHERE invitation_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1\(lock)",
      [.text(invitationID), .text(kind.rawValue)], outboxMessage)
  }
}
