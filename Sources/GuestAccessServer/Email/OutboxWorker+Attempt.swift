import GuestAccessEmail
import GuestAccessProto
import GuestAccessStorage

extension OutboxWorker {
  /// What the claim found.
  private enum Claim: Sendable {
    /// Deliver this (already counted) attempt.
    case deliver(OutboxMessage)
    /// Nothing to do: sent, failed, not due, or cancelled just now.
    case skip
  }

  /// Claims, delivers and records one message; false when it was not attempted.
  func attempt(id: Int64) async throws -> Bool {
    let now = env.clock.nowMillis()
    let backoff = self.backoff
    let claim = try await env.write { writer, _ -> Claim in
      guard var message = try writer.outboxMessage(id: id), message.status == .queued, message.nextAttemptAt <= now else {
        return .skip
      }
      if let reason = try Self.cancellation(of: message, writer, now: now) {
        message.status = .failed
        message.lastError = reason
        message.payload = .erased
        try writer.updateOutboxMessage(message)
        return .skip
      }
      message.attempts += 1
      message.nextAttemptAt = now + backoff.delay(afterAttempt: message.attempts)
      try writer.updateOutboxMessage(message)
      return .deliver(message)
    }
    guard case .deliver(let message) = claim else { return false }
    let email = renderer.render(EmailRequest(message))
    let transport = self.transport
    let outcome = await thread.run { () -> Result<DeliveryReceipt, EmailDeliveryError> in
      do throws(EmailDeliveryError) {
        return .success(try transport.deliver(email))
      } catch {
        return .failure(error)
      }
    }
    try await record(outcome, for: message)
    return true
  }

  /// Writes the outcome of a delivery.
  private func record(_ outcome: Result<DeliveryReceipt, EmailDeliveryError>, for claimed: OutboxMessage) async throws {
    let now = env.clock.nowMillis()
    var message = claimed
    var failedForGood = false
    switch outcome {
    case .success(let receipt):
      message.status = .sent
      message.sentAt = now
      message.lastError = ""
      message.payload = .erased
      logger.info("outbox \(message.id): \(message.kind.rawValue) email for invitation \(message.invitationID) sent (\(receipt.confirmation))")
      for (recipient, reason) in receipt.refusedRecipients.sorted(by: { $0.key < $1.key }) {
        logger.warning("outbox \(message.id): recipient \(recipient) refused: \(reason)")
      }
    case .failure(let error):
      message.lastError = error.reason
      failedForGood = message.attempts >= backoff.maxAttempts || { if case .permanent = error { true } else { false } }()
      if failedForGood {
        message.status = .failed
        message.payload = .erased
        logger.warning("outbox \(message.id): failed for good after \(message.attempts) attempt(s): \(error)")
      } else {
        logger.notice("outbox \(message.id): attempt \(message.attempts) failed, retrying at \(message.nextAttemptAt): \(error)")
      }
    }
    let final = message
    let writeAudit = failedForGood
    let audit = AuditRecorder(systemAt: now)
    try await env.write { writer, events in
      try writer.updateOutboxMessage(final)
      if writeAudit {
        try audit.record(
          writer, &events, tenantID: final.tenantID, action: .invitationEmailFailed,
          targetType: final.kind == .signInPasscode ? .user : .invitation,
          targetID: final.invitationID, outcome: .failure,
          details: ["kind": final.kind.rawValue, "attempts": String(final.attempts), "reason": final.lastError, "outbox_id": String(final.id)])
      }
    }
  }

  /// Why a queued message should not be sent any more, if so: its invitation
  /// is no longer pending, a newer message of the same kind replaced it (a
  /// resend issues a new ticket, so the old link is dead), or its passcode expired.
  /// A sign-in passcode is cancelled only by its expiry.
  private static func cancellation(of message: OutboxMessage, _ writer: any DirectoryWriter, now: Int64) throws -> String? {
    if message.kind == .signInPasscode {
      // About a guest, not an invitation, and each for its own session (a newer
      // sign-in does not close an older one): only its passcode's expiry cancels it.
      if let expiresAt = message.payload.expiresAt, expiresAt <= now { return "not sent: the passcode expired" }
      return nil
    }
    if let newer = try writer.latestOutboxMessage(invitationID: message.invitationID, kind: message.kind), newer.id > message.id {
      return "not sent: superseded by a newer \(message.kind.rawValue) email"
    }
    guard let invitation = try writer.invitation(tenantID: message.tenantID, id: message.invitationID) else {
      return "not sent: the invitation no longer exists"
    }
    switch invitation.status {
    case .pendingAcceptance: break
    case .revoked: return "not sent: the invitation was revoked"
    case .accepted: return "not sent: the invitation was already redeemed"
    case .expired: return "not sent: the invitation expired"
    default: return "not sent: the invitation is no longer pending"
    }
    if let expiresAt = message.payload.expiresAt, expiresAt <= now {
      return message.kind == .passcode ? "not sent: the passcode expired" : "not sent: the invitation expired"
    }
    return nil
  }
}
