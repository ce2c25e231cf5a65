import GuestAccessClient
import GuestAccessStorage
import Testing

extension Invitation {
  /// The ticket inside the redeem URL.
  var ticket: String {
    guard let range = redeemURL.range(of: "ticket=") else { return "" }
    return String(redeemURL[range.upperBound...])
  }
}

extension TestServer {
  /// The passcode queued for an invitation: from the outbox while it waits,
  /// from the spooled email once the delivery worker sent it (and erased the payload).
  func queuedPasscode(invitationID: String) async throws -> String {
    let message = try await app.store.read { try $0.latestOutboxMessage(invitationID: invitationID, kind: .passcode) }
    guard let message else { return "" }
    if let passcode = message.payload["passcode"] { return passcode }
    return SpooledMail.passcode(outboxID: message.id, spoolDir: app.settings.email.spoolDir ?? dataDir + "/outbox") ?? ""
  }
}
