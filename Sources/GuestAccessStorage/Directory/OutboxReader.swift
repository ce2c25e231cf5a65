/// Queries of the delivery worker on the outbox (beyond `InvitationReader`'s).
public protocol OutboxReader {
  /// One outbox message by id.
  func outboxMessage(id: Int64) throws -> OutboxMessage?
  /// The newest outbox message of an invitation of one kind (a resend
  /// supersedes the older invitation emails, whose links no longer work).
  func latestOutboxMessage(invitationID: String, kind: OutboxMessage.Kind) throws -> OutboxMessage?
}
