import GuestAccessClient
import Testing

@Suite("GuestService: reset redemption, leave tenant, my guest tenants")
struct GuestRedemptionTests {
  @Test func resetRedemptionKeepsIdAndMemberships() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let group = try await contoso.adminClient.tenants.createGroup(CreateGroupRequest(displayName: "Marketing"))
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let giovanna = try await proseware.makeUser("Giovanna", mail: "gcarvalho@proseware.com")
      let guest = try await server.redeemedGuest(of: giovanna, in: contoso, grants: InvitationGrants(groupIDs: [group.id]))
      let asGuest = server.client(giovanna.secret, tenant: contoso.id)
      let admin = contoso.adminClient
      let plain = try await contoso.makeUser("Bob", mail: "bob@contoso.com")
      await expectError(.permissionDenied) { try await plain.client.guests.resetRedemption(ResetRedemptionRequest(userID: guest.id)) }

      let request = ResetRedemptionRequest(userID: guest.id, idempotencyKey: "reset-1", sendInvitationMessage: true,
                                           messageInfo: InvitationMessageInfo(customizedMessageBody: "Please sign in again"))
      let reset = try await admin.guests.resetRedemption(request)
      #expect(reset.guest.id == guest.id && reset.guest.externalUserState == .pendingAcceptance && reset.guest.identities.isEmpty)
      #expect(reset.invitation.guestUserID == guest.id && reset.invitation.status == .pendingAcceptance)
      #expect(reset.invitation.redeemURL.hasPrefix("https://guests.example.test/redeem?ticket=tkt_"))
      #expect(reset.invitation.emailDelivery.status == .queued)
      let email = try await server.app.store.read { try $0.latestOutboxMessage(invitationID: reset.invitation.id) }
      #expect(email?.recipient == "gcarvalho@proseware.com" && email?.payload.redeemURL == reset.invitation.redeemURL)
      // A retry with the same key returns the same invitation without its URL; another request with it is refused.
      let replay = try await admin.guests.resetRedemption(request)
      #expect(replay.invitation.id == reset.invitation.id && replay.invitation.redeemURL.isEmpty)
      await expectError(.failedPrecondition, reason: .idempotencyKeyReused) {
        try await admin.guests.resetRedemption(ResetRedemptionRequest(userID: guest.id, idempotencyKey: "reset-1"))
      }
      // Her link is cut until she redeems the new URL; then she is back with the same id and group.
      await expectError(.permissionDenied) { try await asGuest.tenants.getTenant(GetTenantRequest()) }
      let redeemed = try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: reset.invitation.ticket))
      #expect(redeemed.guest.id == guest.id && redeemed.guest.externalUserState == .accepted)
      #expect(try await asGuest.tenants.listGroups(ListGroupsRequest()).groups.map(\.id) == [group.id])
      let resets = try await server.audit(contoso, [.guestRedemptionReset])
      #expect(resets.count == 1 && resets[0].targetID == guest.id && resets[0].actorID == contoso.admin.id)
    }
  }

  @Test func resetRedemptionWithNewEmailAndRefusals() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let sam = try await server.passcodeGuest("sam@contractor.example", in: contoso)
      let asSam = server.client(sam.secret)
      _ = try await asSam.tenants.getTenant(GetTenantRequest())
      _ = try await admin.tenants.createUser(CreateUserRequest(displayName: "Ann", mail: "ann@contoso.com"))
      await expectError(.alreadyExists) {
        try await admin.guests.resetRedemption(ResetRedemptionRequest(userID: sam.guest.id, newEmail: "ann@contoso.com"))
      }
      await expectError(.invalidArgument) { try await admin.guests.resetRedemption(ResetRedemptionRequest(userID: sam.guest.id, newEmail: "nope")) }
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(collaborationDomainMode: .denyList, collaborationDomains: ["blocked.example"]),
        updateMask: ["collaboration_domain_mode", "collaboration_domains"]))
      await expectError(.permissionDenied, reason: .domainNotAllowed) {
        try await admin.guests.resetRedemption(ResetRedemptionRequest(userID: sam.guest.id, newEmail: "sam@blocked.example"))
      }
      // Resetting moves Sam to a new address and revokes the key issued at his passcode redemption.
      let reset = try await admin.guests.resetRedemption(ResetRedemptionRequest(userID: sam.guest.id, newEmail: "Sam@NewCo.example"))
      #expect(reset.guest.mail == "sam@newco.example" && reset.invitation.invitedEmail == "sam@newco.example")
      #expect(reset.invitation.emailDelivery.status == .notRequested)
      await expectError(.unauthenticated) { try await asSam.tenants.getTenant(GetTenantRequest()) }
      let again = try await server.passcodeRedeem(reset.invitation)
      #expect(again.guest.id == sam.guest.id && again.guest.identities.first?.issuerAssignedID == "sam@newco.example")
      _ = try await server.client(again.secret).tenants.getTenant(GetTenantRequest())
      // A reset counts toward the invitation rate limit (two invitations were made in this window already).
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: TenantSettings(invitationRateLimit: 2), updateMask: ["invitation_rate_limit"]))
      await expectError(.resourceExhausted, reason: .inviteRateLimited) {
        try await admin.guests.resetRedemption(ResetRedemptionRequest(userID: sam.guest.id))
      }
      #expect(try await admin.guests.getGuest(GetGuestRequest(userID: sam.guest.id)).externalUserState == .accepted)
    }
  }

  @Test func leaveTenant() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      await expectError(.failedPrecondition, reason: .notAGuest) { try await s.admin.guests.leaveTenant(LeaveTenantRequest()) }
      await expectError(.failedPrecondition, reason: .notAGuest) { try await s.giovanna.client.guests.leaveTenant(LeaveTenantRequest()) }
      let left = try await s.asGuest.guests.leaveTenant(LeaveTenantRequest())
      #expect(left.id == s.guest.id && left.deletedAt != 0)
      await expectError(.permissionDenied) { try await s.asGuest.tenants.getTenant(GetTenantRequest()) }
      let events = try await server.audit(s.contoso, [.guestLeft])
      #expect(events.count == 1 && events[0].actorID == s.guest.id && events[0].actorTenantID == s.proseware.id)
      // An admin can restore her; then she leaves from her home context by naming the tenant.
      _ = try await s.admin.guests.restoreGuest(RestoreGuestRequest(userID: s.guest.id))
      _ = try await s.asGuest.tenants.getTenant(GetTenantRequest())
      await expectError(.notFound) { try await s.giovanna.client.guests.leaveTenant(LeaveTenantRequest(tenantID: "ten_unknown")) }
      let again = try await s.giovanna.client.guests.leaveTenant(LeaveTenantRequest(tenantID: s.contoso.id))
      #expect(again.deletedAt != 0)
      // A passcode guest leaves with its own key, which is revoked.
      let sam = try await server.passcodeGuest("sam@contractor.example", in: s.contoso)
      let asSam = server.client(sam.secret)
      #expect(try await asSam.guests.leaveTenant(LeaveTenantRequest()).deletedAt != 0)
      await expectError(.unauthenticated) { try await asSam.tenants.getTenant(GetTenantRequest()) }
    }
  }

  @Test func listMyGuestTenants() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let second = try await server.redeemedGuest(of: s.giovanna, in: fabrikam)
      let northwind = try await server.makeTenant("Northwind", domain: "northwind.com")
      _ = try await northwind.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      let mine = try await s.giovanna.client.guests.listMyGuestTenants(ListMyGuestTenantsRequest())
      let expected = [(s.contoso.id, "Contoso", s.guest.id), (fabrikam.id, "Fabrikam", second.id)].sorted { $0.0 < $1.0 }
      #expect(mine.tenants.map(\.tenantID) == expected.map(\.0))
      #expect(mine.tenants.map(\.tenantDisplayName) == expected.map(\.1))
      #expect(mine.tenants.map(\.guest.id) == expected.map(\.2))
      #expect(mine.nextPageToken.isEmpty)
      let first = try await s.giovanna.client.guests.listMyGuestTenants(ListMyGuestTenantsRequest(pageSize: 1))
      let rest = try await s.giovanna.client.guests.listMyGuestTenants(ListMyGuestTenantsRequest(pageSize: 1, pageToken: first.nextPageToken))
      #expect((first.tenants + rest.tenants).map(\.tenantID) == expected.map(\.0) && rest.nextPageToken.isEmpty)
      // The `tenant` metadata is ignored, even naming a tenant where she is blocked; removed links drop out.
      _ = try await s.admin.guests.blockSignIn(BlockSignInRequest(userID: s.guest.id))
      #expect(try await s.asGuest.guests.listMyGuestTenants(ListMyGuestTenantsRequest()).tenants.count == 2)
      _ = try await fabrikam.adminClient.guests.removeGuest(RemoveGuestRequest(userID: second.id))
      #expect(try await s.giovanna.client.guests.listMyGuestTenants(ListMyGuestTenantsRequest()).tenants.map(\.tenantID) == [s.contoso.id])
      // A member with no guest links has none; a passcode guest has its one tenant.
      #expect(try await s.admin.guests.listMyGuestTenants(ListMyGuestTenantsRequest()).tenants.isEmpty)
      let sam = try await server.passcodeGuest("sam@contractor.example", in: fabrikam)
      let samTenants = try await server.client(sam.secret).guests.listMyGuestTenants(ListMyGuestTenantsRequest())
      #expect(samTenants.tenants.map(\.tenantID) == [fabrikam.id] && samTenants.tenants[0].guest.id == sam.guest.id)
      await expectError(.permissionDenied) { try await server.operatorClient.guests.listMyGuestTenants(ListMyGuestTenantsRequest()) }
    }
  }
}

extension TestServer {
  /// Completes an email passcode redemption of `invitation`.
  func passcodeRedeem(_ invitation: Invitation) async throws -> CompleteRedemptionResponse {
    let anonymous = client(nil)
    let sent = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: invitation.ticket))
    let passcode = try await queuedPasscode(invitationID: invitation.id)
    return try await anonymous.invitations.completeRedemption(CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: passcode))
  }
}
