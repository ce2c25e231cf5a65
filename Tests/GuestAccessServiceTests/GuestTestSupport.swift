import GuestAccessClient
import GuestAccessTestSupport
import Testing

/// A user of a test tenant with its own credential.
typealias TestUser = (user: User, client: GuestAccessClient, secret: String)

/// The seed's setup: Giovanna of Proseware (tenant A) is a redeemed guest of
/// Contoso (tenant B) and acts there with her Proseware credential.
struct GuestScenario: Sendable {
  let server: TestServer
  let proseware: TestTenant
  let contoso: TestTenant
  let giovanna: TestUser
  let guest: User

  /// Contoso's GLOBAL_ADMIN.
  var admin: GuestAccessClient { contoso.adminClient }
  /// Giovanna acting as a guest in Contoso.
  var asGuest: GuestAccessClient { server.client(giovanna.secret, tenant: contoso.id) }
}

extension TestServer {
  /// Proseware, Contoso, and Giovanna redeemed as a guest of Contoso with `grants`.
  func guestScenario(grants: InvitationGrants = .init(), accessExpiresAt: Int64 = 0) async throws -> GuestScenario {
    let contoso = try await makeTenant("Contoso", domain: "contoso.com")
    let proseware = try await makeTenant("Proseware", domain: "proseware.com")
    let giovanna = try await proseware.makeUser("Giovanna Carvalho", mail: "gcarvalho@proseware.com")
    let guest = try await redeemedGuest(of: giovanna, in: contoso, grants: grants, accessExpiresAt: accessExpiresAt)
    return GuestScenario(server: self, proseware: proseware, contoso: contoso, giovanna: giovanna, guest: guest)
  }

  /// Invites a home user into `tenant` and redeems with the home credential; returns the guest object.
  func redeemedGuest(of home: TestUser, in tenant: TestTenant, grants: InvitationGrants = .init(), accessExpiresAt: Int64 = 0) async throws -> User {
    let created = try await tenant.adminClient.invitations.createInvitation(CreateInvitationRequest(
      invitedEmail: home.user.mail, grants: grants, accessExpiresAt: accessExpiresAt))
    let redeemed = try await home.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
    #expect(redeemed.result == .accepted)
    return redeemed.guest
  }

  /// Invites an address without a tenant here and redeems by email passcode; returns the guest and its own secret.
  func passcodeGuest(_ mail: String, in tenant: TestTenant, grants: InvitationGrants = .init()) async throws -> (guest: User, secret: String) {
    let created = try await tenant.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: mail, grants: grants))
    let anonymous = client(nil)
    let sent = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
    let passcode = try await queuedPasscode(invitationID: created.invitation.id)
    let done = try await anonymous.invitations.completeRedemption(
      CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: passcode))
    return (done.guest, done.secret)
  }

  /// A pending (never redeemed) guest of `tenant`.
  func pendingGuest(_ mail: String, in tenant: TestTenant, accessExpiresAt: Int64 = 0) async throws -> (guest: User, invitation: Invitation) {
    let created = try await tenant.adminClient.invitations.createInvitation(CreateInvitationRequest(
      invitedEmail: mail, accessExpiresAt: accessExpiresAt))
    let guest = try await tenant.adminClient.guests.getGuest(GetGuestRequest(userID: created.invitation.guestUserID))
    return (guest, created.invitation)
  }

  /// The tenant's audit events with one of `actions`, oldest first.
  func audit(_ tenant: TestTenant, _ actions: [AuditAction]) async throws -> [AuditEvent] {
    try await tenant.adminClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000, actions: actions)).events
  }

  /// Waits until the background activity recorder stored a sign-in of `userID`.
  func waitForSignIn(_ tenant: TestTenant, userID: String) async throws {
    let deadline = ContinuousClock.now + .seconds(2).scaled
    while ContinuousClock.now < deadline {
      if try await tenant.adminClient.guests.getGuest(GetGuestRequest(userID: userID)).lastSignInAt != 0 { return }
      try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("no sign-in recorded for \(userID)")
  }
}

extension TestTenant {
  /// Sets the tenant's guest access level.
  func setGuestAccessLevel(_ level: GuestAccessLevel) async throws {
    _ = try await adminClient.tenants.updateSettings(UpdateSettingsRequest(
      settings: TenantSettings(guestAccessLevel: level), updateMask: ["guest_access_level"]))
  }
}
