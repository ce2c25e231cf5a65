import GuestAccessClient
import Testing

extension Invitation {
  /// The ticket inside the redeem URL.
  var ticket: String {
    guard let range = redeemURL.range(of: "ticket=") else { return "" }
    return String(redeemURL[range.upperBound...])
  }
}

extension TestServer {
  /// The passcode queued for an invitation, read from the outbox (as the email would carry it).
  func queuedPasscode(invitationID: String) async throws -> String {
    let message = try await app.store.read { try $0.latestOutboxMessage(invitationID: invitationID) }
    return message?.payload["passcode"] ?? ""
  }
}
