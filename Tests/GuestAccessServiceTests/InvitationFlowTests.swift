import GuestAccessClient
import Testing

/// The seed's story, end to end over real sockets: Contoso invites Giovanna
/// from Proseware to a group and an application; she redeems with her
/// Proseware credential, uses the application in Contoso with that
/// credential, and her access ends at once when Contoso removes her.
@Suite("Invitation flows")
struct InvitationFlowTests {
  @Test func homeTenantStory() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let giovanna = try await proseware.makeUser("Giovanna Carvalho", mail: "gcarvalho@proseware.com")
      let admin = contoso.adminClient
      let group = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Marketing"))
      let app = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Campaign planner"))
      let created = try await admin.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "gcarvalho@proseware.com", invitedDisplayName: "Giovanna", redirectURL: "https://apps.contoso.com/planner",
        sendInvitationMessage: true, messageInfo: InvitationMessageInfo(customizedMessageBody: "Welcome aboard!"),
        grants: InvitationGrants(groupIDs: [group.id], applicationIDs: [app.id])))
      let invitation = created.invitation
      #expect(invitation.status == .pendingAcceptance)
      #expect(invitation.redeemURL.hasPrefix("https://guests.example.test/redeem?ticket=tkt_"))
      #expect(invitation.emailDelivery.status == .queued)
      #expect(invitation.expiresAt == server.clock.nowMillis() + 7 * 86_400_000)
      let pendingGuest = try await admin.tenants.getUser(GetUserRequest(userID: invitation.guestUserID))
      #expect(pendingGuest.userType == .guest)
      #expect(pendingGuest.externalUserState == .pendingAcceptance)
      #expect(pendingGuest.sponsors == [contoso.admin.id])
      // Re-inviting returns the same pending invitation and guest.
      let again = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "GCarvalho@proseware.com"))
      #expect(again.alreadyPending)
      #expect(again.invitation.id == invitation.id)
      #expect(again.invitation.redeemURL.isEmpty)
      // Before redemption the guest cannot act in Contoso.
      let asGuest = server.client(giovanna.secret, tenant: contoso.id)
      await expectError(.permissionDenied, reason: .notAGuest) { try await asGuest.tenants.getTenant(GetTenantRequest()) }
      // The wrong account cannot use the ticket up.
      let mallory = try await proseware.makeUser("Mallory", mail: "mallory@proseware.com")
      await expectError(.permissionDenied, reason: .invitationEmailMismatch) {
        try await mallory.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: invitation.ticket))
      }
      let redeemed = try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: invitation.ticket))
      #expect(redeemed.result == .accepted)
      #expect(redeemed.tenantID == contoso.id)
      #expect(redeemed.redirectURL == "https://apps.contoso.com/planner")
      #expect(redeemed.guest.externalUserState == .accepted)
      #expect(redeemed.guest.identities == [Identity(signInType: .homeTenant, issuer: proseware.id, issuerAssignedID: giovanna.user.id)])
      let again2 = try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: invitation.ticket))
      #expect(again2.guest.id == redeemed.guest.id)
      await expectError(.failedPrecondition, reason: .invitationAlreadyRedeemed) {
        try await mallory.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: invitation.ticket))
      }
      await expectError(.failedPrecondition, reason: .invitationAlreadyRedeemed) {
        try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: invitation.ticket))
      }
      // She uses Contoso with her Proseware credential.
      let seen = try await asGuest.tenants.getTenant(GetTenantRequest())
      #expect(seen.id == contoso.id && seen.displayName == "Contoso")
      let myApps = try await asGuest.tenants.listApplications(ListApplicationsRequest())
      #expect(myApps.applications.map(\.id) == [app.id])
      let myGroups = try await asGuest.tenants.listGroups(ListGroupsRequest())
      #expect(myGroups.groups.map(\.id) == [group.id])
      let stored = try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: invitation.id))
      #expect(stored.status == .accepted)
      #expect(stored.redeemURL.isEmpty)
      // Contoso removes her: access ends at once.
      _ = try await admin.tenants.deleteUser(DeleteUserRequest(userID: redeemed.guest.id))
      await expectError(.permissionDenied, reason: .guestRemoved) { try await asGuest.tenants.getTenant(GetTenantRequest()) }
      // Her home account is unaffected.
      _ = try await giovanna.client.tenants.getTenant(GetTenantRequest())
      let audit = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000))
      let actions = audit.events.map(\.action)
      #expect(actions.contains(.invitationCreated) && actions.contains(.invitationRedeemed) && actions.contains(.guestRemoved))
      let redemption = audit.events.first { $0.action == .invitationRedeemed }!
      #expect(redemption.actorID == redeemed.guest.id || redemption.actorID == giovanna.user.id)
    }
  }

  @Test func passcodeStory() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let app = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Timesheets"))
      let created = try await admin.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "sam@contractor.example", grants: InvitationGrants(applicationIDs: [app.id])))
      let anonymous = server.client(nil)
      // The whole redeem URL is accepted as well as the bare ticket.
      let sent = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.redeemURL))
      #expect(sent.result == .passcodeSent)
      #expect(sent.passcodeSentTo == "s***@contractor.example")
      #expect(sent.passcodeAttemptsAllowed == 5)
      #expect(sent.passcodeExpiresAt == server.clock.nowMillis() + 30 * 60_000)
      let passcode = try await server.queuedPasscode(invitationID: created.invitation.id)
      #expect(passcode.count == 8)
      let wrong = passcode == "00000000" ? "11111111" : "00000000"
      await expectError(.permissionDenied, reason: .passcodeInvalid) {
        try await anonymous.invitations.completeRedemption(CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: wrong))
      }
      let done = try await anonymous.invitations.completeRedemption(
        CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: passcode))
      #expect(done.guest.externalUserState == .accepted)
      #expect(done.guest.identities.first?.signInType == .emailOtp)
      #expect(done.secret.hasPrefix("gak_"))
      let sam = server.client(done.secret)
      let apps = try await sam.tenants.listApplications(ListApplicationsRequest())
      #expect(apps.applications.map(\.id) == [app.id])
      await expectError(.failedPrecondition) {
        try await anonymous.invitations.completeRedemption(CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: passcode))
      }
      _ = try await admin.tenants.deleteUser(DeleteUserRequest(userID: done.guest.id))
      await expectError(.unauthenticated) { try await sam.tenants.getTenant(GetTenantRequest()) }
    }
  }

  @Test func passcodeLimitsAndExpiry() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let created = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "pat@freelance.example"))
      let anonymous = server.client(nil)
      let first = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      for attempt in 1...5 {
        await expectError(attempt < 5 ? .permissionDenied : .permissionDenied) {
          try await anonymous.invitations.completeRedemption(CompleteRedemptionRequest(redemptionSessionID: first.redemptionSessionID, passcode: "99999999x"))
        }
      }
      await expectError(.failedPrecondition, reason: .passcodeAttemptsExceeded) {
        try await anonymous.invitations.completeRedemption(CompleteRedemptionRequest(redemptionSessionID: first.redemptionSessionID, passcode: "12345678"))
      }
      // A new passcode ends the previous session; it expires after 30 minutes.
      let second = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      #expect(second.redemptionSessionID != first.redemptionSessionID)
      let passcode = try await server.queuedPasscode(invitationID: created.invitation.id)
      server.clock.advance(seconds: 31 * 60)
      await expectError(.failedPrecondition, reason: .passcodeExpired) {
        try await anonymous.invitations.completeRedemption(CompleteRedemptionRequest(ticket: created.invitation.ticket, passcode: passcode))
      }
      // Disabled passcodes: a clear FAILED_PRECONDITION.
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: TenantSettings(emailOtpMode: .disabled), updateMask: ["email_otp_mode"]))
      await expectError(.failedPrecondition, reason: .emailOTPDisabled) {
        try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      // Unknown tickets: NOT_FOUND, and a source is locked out of lookups after repeated failures;
      // a ticket that exists is still evaluated.
      for _ in 0..<20 {
        await expectError(.notFound) { try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: "tkt_guess")) }
      }
      await expectError(.resourceExhausted, reason: .redemptionRateLimited) {
        try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: "tkt_guess"))
      }
      await expectError(.failedPrecondition, reason: .emailOTPDisabled) {
        try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      let audit = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000))
      #expect(audit.events.filter { $0.outcome == .failure }.count == 5)
    }
  }

  @Test func homeTenantDomainsMustRedeemWithTheirCredential() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      _ = try await server.makeTenant("Proseware", domain: "proseware.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "nobody@proseware.com"))
      await expectError(.failedPrecondition, reason: .homeTenantRequired) {
        try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
    }
  }
}
