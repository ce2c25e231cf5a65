import GuestAccessClient
import GuestAccessStorage
import GuestAccessTestSupport
import Testing

extension Invitation {
  /// The ticket inside the redeem URL.
  var ticket: String {
    guard let range = redeemURL.range(of: "ticket=") else { return "" }
    return String(redeemURL[range.upperBound...])
  }
}

extension TestServer {
  /// The passcode queued for an invitation (or, for a sign-in passcode, a
  /// guest's user id): from the outbox while it waits, from the spooled
  /// email once the delivery worker sent it (and erased the payload).
  func queuedPasscode(invitationID: String, kind: OutboxMessage.Kind = .passcode) async throws -> String {
    let message = try await app.store.read { try $0.latestOutboxMessage(invitationID: invitationID, kind: kind) }
    guard let message else { return "" }
    if !message.payload.passcode.isEmpty { return message.payload.passcode }
    return SpooledMail.passcode(outboxID: message.id, kind: kind.rawValue, spoolDir: app.settings.email.spoolDir ?? dataDir + "/outbox") ?? ""
  }
}
