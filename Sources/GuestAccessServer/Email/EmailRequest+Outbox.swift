import GuestAccessEmail
import GuestAccessStorage

extension EmailRequest {
  /// The email an outbox row asks for: the row's kind chooses which payload
  /// fields the message uses; its sequence number and queue time identify it.
  init(_ message: OutboxMessage) {
    let payload = message.payload
    let kind: Kind =
      switch message.kind {
      case .invitation:
        .invitation(
          Invitation(
            inviter: EmailAddress(name: payload.inviterName, address: payload.inviterMail), customMessage: payload.customMessage,
            redeemURL: payload.redeemURL, expiresAt: payload.expiresAt))
      case .passcode: .passcode(Passcode(code: payload.passcode, expiresAt: payload.expiresAt))
      case .signInPasscode: .signInPasscode(Passcode(code: payload.passcode, expiresAt: payload.expiresAt))
      }
    self.init(
      number: message.id, queuedAt: message.createdAt, subjectID: message.invitationID,
      recipient: EmailAddress(name: payload.invitedName, address: message.recipient), cc: message.cc.isEmpty ? nil : message.cc,
      language: payload.language, tenantName: payload.tenantName, kind: kind)
  }
}
