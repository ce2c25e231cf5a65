import ArgumentParser
import GuestAccessClient

/// Options shared by `invite` and `invite bulk`.
struct InvitationOptions: ParsableArguments {
  @Option(name: .customLong("group"), help: "A group the guest joins on redemption (repeatable).") var groups: [String] = []
  @Option(name: .customLong("app"), help: "An application the guest is assigned on redemption (repeatable).") var apps: [String] = []
  @Option(name: .customLong("expires-days"), help: "Days the redeem URL works (default: the tenant's, 7; at most 30).") var expiresDays: Int64?
  @Flag(name: .customLong("send-email"), help: "Email the invitation (else share the redeem URL yourself).") var sendEmail = false
  @Option(help: "A personal message for the email.") var message: String = ""
  @Option(help: "One address to copy the email to.") var cc: String = ""
  @Option(help: "Language of the email, e.g. en-US, de.") var language: String = ""
  @Option(name: .customLong("redirect-url"), help: "Where the guest lands after redeeming.") var redirectURL: String = ""
  @Option(name: .customLong("sponsor"), help: "A sponsor user id (repeatable; default: you).") var sponsors: [String] = []
  @Option(name: .customLong("access-expires"), help: "When the guest's access ends: 2026-12-31, 90d, or never.") var accessExpires: TimeArgument?
  @Flag(name: .customLong("member"), help: "Invite as an external member rather than a guest (admins only).") var asMember = false
  @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""

  /// The request these options describe, without the email and name.
  func request(tenantID: String) throws -> CreateInvitationRequest {
    CreateInvitationRequest(
      tenantID: tenantID, idempotencyKey: idempotencyKey, invitedUserType: asMember ? .member : .unspecified, redirectURL: redirectURL,
      sendInvitationMessage: sendEmail,
      messageInfo: InvitationMessageInfo(ccRecipient: cc, customizedMessageBody: message, messageLanguage: language),
      grants: InvitationGrants(groupIDs: groups, applicationIDs: apps), expiresInSeconds: (expiresDays ?? 0) * 86_400,
      sponsors: sponsors, accessExpiresAt: accessExpires?.millis ?? 0)
  }
}
