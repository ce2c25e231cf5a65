import GuestAccessClient
import Testing

@Suite("GuestService: remove, restore, purge")
struct GuestRemovalTests {
  @Test func removeEndsAccessAtOnceAndRestoreBringsItBack() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let group = try await contoso.adminClient.tenants.createGroup(CreateGroupRequest(displayName: "Marketing"))
      let app = try await contoso.adminClient.tenants.createApplication(CreateApplicationRequest(displayName: "Planner"))
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let giovanna = try await proseware.makeUser("Giovanna", mail: "gcarvalho@proseware.com")
      let guest = try await server.redeemedGuest(of: giovanna, in: contoso, grants: InvitationGrants(groupIDs: [group.id], applicationIDs: [app.id]))
      let asGuest = server.client(giovanna.secret, tenant: contoso.id)
      let admin = contoso.adminClient
      let member = try await contoso.makeUser("Bob", mail: "bob@contoso.com")
      await expectError(.permissionDenied) { try await member.client.guests.removeGuest(RemoveGuestRequest(userID: guest.id)) }

      let removed = try await admin.guests.removeGuest(RemoveGuestRequest(userID: guest.id))
      #expect(removed.deletedAt == server.clock.nowMillis())
      await expectError(.permissionDenied) { try await asGuest.tenants.getTenant(GetTenantRequest()) }
      // Admins still see it; other members do not; removing again changes nothing.
      #expect(try await admin.guests.getGuest(GetGuestRequest(userID: guest.id)).deletedAt != 0)
      await expectError(.notFound) { try await member.client.guests.getGuest(GetGuestRequest(userID: guest.id)) }
      #expect(try await admin.guests.removeGuest(RemoveGuestRequest(userID: guest.id)) == removed)
      // A removed guest cannot be managed until restored.
      await expectError(.failedPrecondition, reason: .guestRemoved) { try await admin.guests.blockSignIn(BlockSignInRequest(userID: guest.id)) }
      await expectError(.failedPrecondition, reason: .guestRemoved) { try await admin.guests.unblockSignIn(UnblockSignInRequest(userID: guest.id)) }
      await expectError(.failedPrecondition, reason: .guestRemoved) {
        try await admin.guests.updateGuest(UpdateGuestRequest(userID: guest.id, displayName: "X", updateMask: ["display_name"]))
      }
      await expectError(.failedPrecondition, reason: .guestRemoved) { try await admin.guests.resetRedemption(ResetRedemptionRequest(userID: guest.id)) }
      let check = try await admin.guests.checkAccess(CheckAccessRequest(principalUserID: guest.id, resourceID: app.id))
      #expect(!check.allowed && check.reason == .guestRemoved)

      server.clock.advance(seconds: 29 * 86_400)
      await expectError(.permissionDenied) { try await member.client.guests.restoreGuest(RestoreGuestRequest(userID: guest.id)) }
      let restored = try await admin.guests.restoreGuest(RestoreGuestRequest(userID: guest.id))
      #expect(restored.deletedAt == 0 && restored.externalUserState == .accepted)
      #expect(try await admin.guests.restoreGuest(RestoreGuestRequest(userID: guest.id)) == restored)
      // Memberships and assignments came back with it.
      #expect(try await asGuest.tenants.listGroups(ListGroupsRequest()).groups.map(\.id) == [group.id])
      #expect(try await asGuest.tenants.listApplications(ListApplicationsRequest()).applications.map(\.id) == [app.id])
      #expect(try await admin.guests.checkAccess(CheckAccessRequest(principalUserID: guest.id, resourceID: app.id)).allowed)
      let events = try await server.audit(contoso, [.guestRemoved, .guestRestored])
      #expect(events.map(\.action) == [.guestRemoved, .guestRestored])
      #expect(events.allSatisfy { $0.actorID == contoso.admin.id && $0.targetID == guest.id && $0.outcome == .success })
    }
  }

  @Test func restoreWindowThenPurge() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      _ = try await s.admin.guests.removeGuest(RemoveGuestRequest(userID: s.guest.id))
      server.clock.advance(seconds: 30 * 86_400 + 1)
      await expectError(.failedPrecondition, reason: .restorePeriodEnded) {
        try await s.admin.guests.restoreGuest(RestoreGuestRequest(userID: s.guest.id))
      }
      // (Assertions look at effects, not at the report: the app's background sweeper may sweep first on a slow machine.)
      try await server.app.sweeper.runOnce()
      await expectError(.notFound) { try await s.admin.guests.getGuest(GetGuestRequest(userID: s.guest.id)) }
      await expectError(.notFound) { try await s.admin.guests.restoreGuest(RestoreGuestRequest(userID: s.guest.id)) }
      let purged = try await server.audit(s.contoso, [.guestPurged])
      #expect(purged.count == 1 && purged[0].actorType == .system && purged[0].targetID == s.guest.id)
      // Purged for good: the address can be invited afresh, and her home account is untouched.
      let again = try await s.admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      #expect(again.invitation.guestUserID != s.guest.id)
      _ = try await s.giovanna.client.tenants.getTenant(GetTenantRequest())
      try await server.app.sweeper.runOnce()
      #expect(try await server.audit(s.contoso, [.guestPurged]).count == 1)
    }
  }

  @Test func removeRevokesPendingInvitationAndPasscodeCredential() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let pending = try await server.pendingGuest("lee@fabrikam.example", in: contoso)
      _ = try await admin.guests.removeGuest(RemoveGuestRequest(userID: pending.guest.id))
      let invitation = try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: pending.invitation.id))
      #expect(invitation.status == .revoked)
      await expectError(.notFound) {
        try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: pending.invitation.ticket))
      }
      // Restoring a pending guest keeps it pending; its address may not be taken meanwhile.
      _ = try await admin.tenants.createUser(CreateUserRequest(displayName: "Lee", mail: "lee@fabrikam.example"))
      await expectError(.alreadyExists) { try await admin.guests.restoreGuest(RestoreGuestRequest(userID: pending.guest.id)) }

      let sam = try await server.passcodeGuest("sam@contractor.example", in: contoso)
      let asSam = server.client(sam.secret)
      _ = try await asSam.tenants.getTenant(GetTenantRequest())
      _ = try await admin.guests.removeGuest(RemoveGuestRequest(userID: sam.guest.id))
      await expectError(.unauthenticated) { try await asSam.tenants.getTenant(GetTenantRequest()) }
      let keys = try await admin.tenants.listCredentials(ListCredentialsRequest(userID: sam.guest.id))
      #expect(keys.credentials.count == 1 && keys.credentials[0].state == .revoked)
      let restored = try await admin.guests.restoreGuest(RestoreGuestRequest(userID: sam.guest.id))
      #expect(restored.externalUserState == .accepted && restored.deletedAt == 0)
      // The old key stays revoked; an admin issues a new one.
      await expectError(.unauthenticated) { try await asSam.tenants.getTenant(GetTenantRequest()) }
      let key = try await admin.tenants.issueCredential(IssueCredentialRequest(userID: sam.guest.id))
      _ = try await server.client(key.secret).tenants.getTenant(GetTenantRequest())
      #expect(try await server.audit(contoso, [.credentialRevoked]).count == 1)
      #expect(try await server.audit(contoso, [.invitationRevoked]).count == 1)
    }
  }
}
