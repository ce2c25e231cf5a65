import GuestAccessClient
import Testing

/// Identity rooted in verified domains, tried as an attacker with a tenant of
/// their own would (docs/SECURITY.md, "Identity").
@Suite("Identity")
struct IdentityTests {
  /// Tenant Evil's admin creates a user with Carol's Proseware address and
  /// tries to redeem Contoso's invitation to Carol with its key.
  @Test func anotherTenantsUserWithTheInvitedAddressCannotRedeem() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let evil = try await server.makeTenant("Evil", domain: "evil.example")
      #expect(contoso.admin.mailVerified)
      let carol = try await proseware.makeUser("Carol", mail: "carol@proseware.com")
      #expect(carol.user.mailVerified)
      let impostor = try await evil.makeUser("Carol", mail: "carol@proseware.com")
      #expect(!impostor.user.mailVerified)
      #expect(try await evil.adminClient.tenants.getUser(GetUserRequest(userID: impostor.user.id)).mailVerified == false)

      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "carol@proseware.com"))
      await expectError(.permissionDenied, reason: .homeIdentityUnverified) {
        try await impostor.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      // Renaming a member into the address after creation does not help either.
      _ = try await evil.adminClient.tenants.deleteUser(DeleteUserRequest(userID: impostor.user.id))
      let renamed = try await evil.makeUser("Mallory", mail: "mallory@evil.example")
      #expect(renamed.user.mailVerified)
      let changed = try await evil.adminClient.tenants.updateUser(UpdateUserRequest(
        userID: renamed.user.id, mail: "carol@proseware.com", updateMask: ["mail"]))
      #expect(!changed.mailVerified)
      await expectError(.permissionDenied, reason: .homeIdentityUnverified) {
        try await renamed.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      // The real Carol still redeems.
      let redeemed = try await carol.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      #expect(redeemed.result == .accepted)
    }
  }

  /// The stored flag follows the tenant's verified domains.
  @Test func mailVerifiedFollowsTheVerifiedDomains() async throws {
    try await withTestServer { server in
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let carol = try await proseware.makeUser("Carol", mail: "carol@proseware.net")
      #expect(!carol.user.mailVerified)
      _ = try await server.operatorClient.tenants.updateTenant(UpdateTenantRequest(
        tenantID: proseware.id, verifiedDomains: ["proseware.com", "proseware.net"], updateMask: ["verified_domains"]))
      #expect(try await proseware.adminClient.tenants.getUser(GetUserRequest(userID: carol.user.id)).mailVerified)
      _ = try await server.operatorClient.tenants.updateTenant(UpdateTenantRequest(
        tenantID: proseware.id, verifiedDomains: ["proseware.net"], updateMask: ["verified_domains"]))
      #expect(try await proseware.adminClient.tenants.getUser(GetUserRequest(userID: proseware.admin.id)).mailVerified == false)
      #expect(try await proseware.adminClient.tenants.getUser(GetUserRequest(userID: carol.user.id)).mailVerified)
    }
  }

  /// A passcode guest's key held in tenant X is no home identity: it cannot
  /// redeem tenant Y's invitation to the same address when Y disabled
  /// passcodes (nor at all: each tenant's policy holds whatever credential is presented).
  @Test func passcodeGuestKeyCannotStandInForTheDisabledPasscodePath() async throws {
    try await withTestServer { server in
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let dave = try await server.passcodeGuest("dave@outside.example", in: fabrikam)
      _ = try await contoso.adminClient.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(emailOtpMode: .disabled), updateMask: ["email_otp_mode"]))
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "dave@outside.example"))
      await expectError(.permissionDenied, reason: .homeIdentityUnverified) {
        try await server.client(dave.secret).invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      await expectError(.failedPrecondition, reason: .emailOTPDisabled) {
        try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      let invitation = try await contoso.adminClient.invitations.getInvitation(GetInvitationRequest(invitationID: created.invitation.id))
      #expect(invitation.status == .pendingAcceptance)
    }
  }

  /// An address in a domain a tenant verified is redeemed only by that
  /// tenant's member, never by passcode (unchanged) nor by another tenant's user.
  @Test func homeTenantRedemptionNeedsTheDomainOwner() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      _ = proseware
      // A Fabrikam member whose mail is a Proseware address (unverified there).
      let lookalike = try await fabrikam.makeUser("Erin", mail: "erin@proseware.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "erin@proseware.com"))
      await expectError(.permissionDenied, reason: .homeIdentityUnverified) {
        try await lookalike.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      await expectError(.failedPrecondition, reason: .homeTenantRequired) {
        try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
    }
  }
}
