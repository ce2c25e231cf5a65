import GuestAccessClient
import Testing

/// Who may do what, tried through the RPC by users without the role
/// (docs/SECURITY.md, "Authorization").
@Suite("Authorization")
struct AuthorizationTests {
  /// A plain member (or a GUEST_INVITER) cannot hand out groups and
  /// applications through an invitation; admins can.
  @Test func onlyAdminsGrantThroughInvitations() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let finance = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Finance-Admins"))
      let payroll = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Payroll"))
      let grants = InvitationGrants(groupIDs: [finance.id], applicationIDs: [payroll.id])
      let member = try await contoso.makeUser("Mem", mail: "mem@contoso.com")
      let inviter = try await contoso.makeUser("Inv", mail: "inv@contoso.com", roles: [.guestInviter])
      let userAdmin = try await contoso.makeUser("UA", mail: "ua@contoso.com", roles: [.userAdmin])
      for client in [member.client, inviter.client] {
        await expectError(.permissionDenied, reason: .grantNotAllowed) {
          try await client.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "eve@outside.example", grants: grants))
        }
        await expectError(.permissionDenied, reason: .grantNotAllowed) {
          try await client.invitations.createInvitation(CreateInvitationRequest(
            invitedEmail: "eve@outside.example", grants: InvitationGrants(applicationIDs: [payroll.id])))
        }
      }
      let batch = try await member.client.invitations.createInvitations(CreateInvitationsRequest(invitations: [
        CreateInvitationRequest(invitedEmail: "eve@outside.example", grants: grants),
      ]))
      #expect(batch.results.map(\.reason) == ["GRANT_NOT_ALLOWED"])
      // Nothing was created for the refused address; an invitation without grants is fine.
      #expect(try await admin.tenants.listUsers(ListUsersRequest(mail: "eve@outside.example")).users.isEmpty)
      _ = try await member.client.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "eve@outside.example"))
      let granted = try await userAdmin.client.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "frank@outside.example", grants: grants))
      let frank = try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: granted.invitation.ticket))
      #expect(frank.result == .passcodeSent)
    }
  }

  /// An external member (invited as MEMBER, redeemed with a home key) gets no
  /// key of the resource tenant, and its access expiry is enforced.
  @Test func externalMemberHasNoOwnKeyAndExpires() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let giovanna = try await proseware.makeUser("Giovanna", mail: "gcarvalho@proseware.com")
      let expiry = server.clock.nowMillis() + 3_600_000
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "gcarvalho@proseware.com", invitedUserType: .member, accessExpiresAt: expiry))
      let redeemed = try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      #expect(redeemed.result == .accepted)
      let inContoso = server.client(giovanna.secret, tenant: contoso.id)
      #expect(try await inContoso.tenants.getUser(GetUserRequest(userID: "self")).userType == .member)
      await expectError(.failedPrecondition, reason: .guestHasHomeTenant) {
        try await inContoso.tenants.issueCredential(IssueCredentialRequest(displayName: "mine"))
      }
      await expectError(.failedPrecondition, reason: .guestHasHomeTenant) {
        try await contoso.adminClient.tenants.issueCredential(IssueCredentialRequest(userID: redeemed.guest.id))
      }
      // Blocking the home user ends the access in Contoso too.
      _ = try await proseware.adminClient.tenants.updateUser(UpdateUserRequest(
        userID: giovanna.user.id, accountEnabled: false, updateMask: ["account_enabled"]))
      await expectError(.permissionDenied, reason: .signInBlocked) { try await inContoso.tenants.getTenant(GetTenantRequest()) }
      _ = try await proseware.adminClient.tenants.updateUser(UpdateUserRequest(
        userID: giovanna.user.id, accountEnabled: true, updateMask: ["account_enabled"]))
      _ = try await inContoso.tenants.getTenant(GetTenantRequest())
      server.clock.advance(seconds: 7200)
      await expectError(.permissionDenied, reason: .accessExpired) { try await inContoso.tenants.getTenant(GetTenantRequest()) }
    }
  }

  /// A sponsor without a role may end a guest's access sooner, not later.
  @Test func sponsorCannotRemoveOrExtendAnAdminsExpiry() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let sponsor = try await contoso.makeUser("Sponsor", mail: "sponsor@contoso.com")
      let now = server.clock.nowMillis()
      let expiry = now + 10 * 86_400_000
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "guest@outside.example", sponsors: [sponsor.user.id], accessExpiresAt: expiry))
      let guestID = created.invitation.guestUserID
      for attempt in [Int64(0), expiry + 86_400_000] {
        await expectError(.permissionDenied, reason: .permissionDenied) {
          try await sponsor.client.guests.updateGuest(UpdateGuestRequest(userID: guestID, accessExpiresAt: attempt, updateMask: ["access_expires_at"]))
        }
      }
      let shorter = try await sponsor.client.guests.updateGuest(UpdateGuestRequest(
        userID: guestID, accessExpiresAt: now + 86_400_000, updateMask: ["access_expires_at"]))
      #expect(shorter.accessExpiresAt == now + 86_400_000)
      let removed = try await contoso.adminClient.guests.updateGuest(UpdateGuestRequest(userID: guestID, accessExpiresAt: 0, updateMask: ["access_expires_at"]))
      #expect(removed.accessExpiresAt == 0)
    }
  }

  /// GLOBAL_ADMIN > USER_ADMIN > everyone else: a USER_ADMIN changes users
  /// without an admin role and itself, never another admin.
  @Test func userAdminCannotChangeAnotherAdmin() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let first = try await contoso.makeUser("UA1", mail: "ua1@contoso.com", roles: [.userAdmin])
      let second = try await contoso.makeUser("UA2", mail: "ua2@contoso.com", roles: [.userAdmin])
      let plain = try await contoso.makeUser("Plain", mail: "plain@contoso.com")
      let attempts: [UpdateUserRequest] = [
        UpdateUserRequest(userID: second.user.id, accountEnabled: false, updateMask: ["account_enabled"]),
        UpdateUserRequest(userID: second.user.id, mail: "attacker@contoso.com", updateMask: ["mail"]),
        UpdateUserRequest(userID: contoso.admin.id, displayName: "Nobody", updateMask: ["display_name"]),
      ]
      for request in attempts {
        await expectError(.permissionDenied) { try await first.client.tenants.updateUser(request) }
      }
      await expectError(.permissionDenied) {
        try await first.client.tenants.setRoles(SetRolesRequest(userID: second.user.id, roles: [.userAdmin, .guestInviter]))
      }
      _ = try await first.client.tenants.updateUser(UpdateUserRequest(userID: plain.user.id, accountEnabled: false, updateMask: ["account_enabled"]))
      _ = try await first.client.tenants.updateUser(UpdateUserRequest(userID: first.user.id, displayName: "Me", updateMask: ["display_name"]))
      let disabled = try await contoso.adminClient.tenants.updateUser(UpdateUserRequest(
        userID: second.user.id, accountEnabled: false, updateMask: ["account_enabled"]))
      #expect(!disabled.accountEnabled)
    }
  }

  /// Invitation email goes out in the tenant's name: who may send it and
  /// where its redirect may point are the tenant's policy.
  @Test func invitationEmailAndRedirectAreTenantPolicy() async throws {
    try await withTestServer { server in
      let scenario = try await server.guestScenario()
      let admin = scenario.admin
      let guest = scenario.asGuest
      _ = try await guest.tenants.updateUser(UpdateUserRequest(userID: scenario.guest.id, displayName: "Contoso IT Security", updateMask: ["display_name"]))
      let phishing = CreateInvitationRequest(
        invitedEmail: "victim@outside.example", sendInvitationMessage: true,
        messageInfo: InvitationMessageInfo(ccRecipient: "boss@outside.example", customizedMessageBody: "Please re-enter your password"))
      await expectError(.permissionDenied, reason: .invitationEmailNotAllowed) { try await guest.invitations.createInvitation(phishing) }
      // Without email the guest may still invite (policy EVERYONE) and pass the URL on itself.
      let quiet = try await guest.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "victim@outside.example"))
      await expectError(.permissionDenied, reason: .invitationEmailNotAllowed) {
        try await guest.invitations.resendInvitation(ResendInvitationRequest(invitationID: quiet.invitation.id))
      }
      // Redirect URLs: by default https on a verified domain (or a subdomain) only.
      for url in ["https://evil.example/login", "https://contoso.com.evil.example/", "http://contoso.com/", "https://user@evil.example/"] {
        await expectError(.permissionDenied, reason: .redirectURLNotAllowed) {
          try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "r@outside.example", redirectURL: url))
        }
      }
      _ = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "r1@outside.example", redirectURL: "https://apps.contoso.com/x"))
      await expectError(.invalidArgument) {
        try await admin.tenants.updateSettings(UpdateSettingsRequest(
          settings: TenantSettings(redirectURLAllowList: ["https://portal.partner.example"]), updateMask: ["redirect_url_allow_list"]))
      }
      let settings = try await admin.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(redirectURLAllowList: ["https://portal.partner.example/"], invitationEmailPolicy: .everyone),
        updateMask: ["redirect_url_allow_list", "invitation_email_policy"]))
      #expect(settings.redirectURLAllowList == ["https://portal.partner.example/"])
      _ = try await admin.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "r2@outside.example", redirectURL: "https://portal.partner.example/welcome"))
      await expectError(.permissionDenied, reason: .redirectURLNotAllowed) {
        try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "r3@outside.example", redirectURL: "https://apps.contoso.com/x"))
      }
      let pending = try await server.pendingGuest("r4@outside.example", in: scenario.contoso)
      await expectError(.permissionDenied, reason: .redirectURLNotAllowed) {
        try await admin.guests.resetRedemption(ResetRedemptionRequest(userID: pending.guest.id, redirectURL: "https://evil.example/"))
      }
      // With EVERYONE the guest may send email.
      _ = try await guest.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "friend@outside.example", sendInvitationMessage: true))
    }
  }
}
