import GuestAccessClient
import Testing

@Suite("GuestService: get, list and update guests")
struct GuestDirectoryTests {
  @Test func getGuestByRole() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      let got = try await s.admin.guests.getGuest(GetGuestRequest(userID: s.guest.id))
      #expect(got.id == s.guest.id && got.userType == .guest && got.externalUserState == .accepted)
      #expect(got.identities == [Identity(signInType: .homeTenant, issuer: s.proseware.id, issuerAssignedID: s.giovanna.user.id)])
      #expect(got.sponsors == [s.contoso.admin.id] && got.invitedBy == s.contoso.admin.id)
      // Any member may read guests; a guest reads "self".
      let member = try await s.contoso.makeUser("Ann", mail: "ann@contoso.com")
      #expect(try await member.client.guests.getGuest(GetGuestRequest(userID: s.guest.id)).id == s.guest.id)
      let me = try await s.asGuest.guests.getGuest(GetGuestRequest(userID: "self"))
      #expect(me.id == s.guest.id && me.mail == "gcarvalho@proseware.com")
      // A member's id, another tenant's guest, a member's "self": NOT_FOUND.
      await expectError(.notFound) { try await s.admin.guests.getGuest(GetGuestRequest(userID: member.user.id)) }
      await expectError(.notFound) { try await s.admin.guests.getGuest(GetGuestRequest(userID: "self")) }
      await expectError(.notFound) { try await s.proseware.adminClient.guests.getGuest(GetGuestRequest(userID: s.guest.id)) }
      await expectError(.notFound) { try await s.admin.guests.getGuest(GetGuestRequest(tenantID: s.proseware.id, userID: s.guest.id)) }
      await expectError(.invalidArgument) { try await s.admin.guests.getGuest(GetGuestRequest()) }
      // The operator is no tenant user; an unknown credential is UNAUTHENTICATED.
      await expectError(.permissionDenied) { try await server.operatorClient.guests.getGuest(GetGuestRequest(tenantID: s.contoso.id, userID: s.guest.id)) }
      await expectError(.unauthenticated) { try await server.client("gak_nope").guests.getGuest(GetGuestRequest(userID: s.guest.id)) }
    }
  }

  @Test func listGuestsWithFilters() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      let t0 = server.clock.nowMillis()
      let ann = try await s.contoso.makeUser("Ann", mail: "ann@contoso.com", roles: [.guestInviter])
      let fabrikam = try await ann.client.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "lee@fabrikam.example"))
      let expiring = try await server.pendingGuest("kim@fabrikam.example", in: s.contoso, accessExpiresAt: t0 + 86_400_000)
      let all = try await s.admin.guests.listGuests(ListGuestsRequest())
      #expect(all.guests.count == 3 && all.guests.map(\.id) == all.guests.map(\.id).sorted())
      #expect(all.guests.allSatisfy { $0.userType == .guest })
      let accepted = try await s.admin.guests.listGuests(ListGuestsRequest(externalUserState: .accepted))
      #expect(accepted.guests.map(\.id) == [s.guest.id])
      let pending = try await s.admin.guests.listGuests(ListGuestsRequest(externalUserState: .pendingAcceptance))
      #expect(Set(pending.guests.map(\.id)) == [fabrikam.invitation.guestUserID, expiring.guest.id])
      let byDomain = try await s.admin.guests.listGuests(ListGuestsRequest(domain: "Proseware.COM"))
      #expect(byDomain.guests.map(\.id) == [s.guest.id])
      let sponsoredByAnn = try await ann.client.guests.listGuests(ListGuestsRequest(sponsorID: "self"))
      #expect(sponsoredByAnn.guests.map(\.id) == [fabrikam.invitation.guestUserID])
      let soon = try await s.admin.guests.listGuests(ListGuestsRequest(accessExpiresBeforeAt: t0 + 2 * 86_400_000))
      #expect(soon.guests.map(\.id) == [expiring.guest.id])
      #expect(try await s.admin.guests.listGuests(ListGuestsRequest(accessExpiresBeforeAt: t0)).guests.isEmpty)
      // Pages of one, in id order.
      var seen: [String] = []
      var token = ""
      repeat {
        let page = try await s.admin.guests.listGuests(ListGuestsRequest(pageSize: 1, pageToken: token))
        #expect(page.guests.count == 1)
        seen += page.guests.map(\.id)
        token = page.nextPageToken
      } while !token.isEmpty
      #expect(seen == all.guests.map(\.id))
      await expectError(.invalidArgument) { try await s.admin.guests.listGuests(ListGuestsRequest(pageToken: "bogus")) }
      await expectError(.invalidArgument) { try await s.admin.guests.listGuests(ListGuestsRequest(domain: "not a domain")) }
      await expectError(.invalidArgument) { try await s.admin.guests.listGuests(ListGuestsRequest(inactiveDays: -1)) }
      // Removed guests: only with removed_only, only for admins.
      _ = try await s.admin.guests.removeGuest(RemoveGuestRequest(userID: expiring.guest.id))
      #expect(try await s.admin.guests.listGuests(ListGuestsRequest()).guests.count == 2)
      #expect(try await s.admin.guests.listGuests(ListGuestsRequest(removedOnly: true)).guests.map(\.id) == [expiring.guest.id])
      await expectError(.permissionDenied) { try await ann.client.guests.listGuests(ListGuestsRequest(removedOnly: true)) }
      // A guest lists guests only with SAME_AS_MEMBERS.
      await expectError(.permissionDenied) { try await s.asGuest.guests.listGuests(ListGuestsRequest()) }
      try await s.contoso.setGuestAccessLevel(.sameAsMembers)
      #expect(try await s.asGuest.guests.listGuests(ListGuestsRequest()).guests.count == 2)
    }
  }

  @Test func inactiveGuestsCountNeverSignedInFromCreation() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      let pending = try await server.pendingGuest("lee@fabrikam.example", in: s.contoso)
      server.clock.advance(seconds: 10 * 86_400)
      _ = try await s.asGuest.tenants.getTenant(GetTenantRequest())
      try await server.waitForSignIn(s.contoso, userID: s.guest.id)
      server.clock.advance(seconds: 25 * 86_400)
      let late = try await server.pendingGuest("kim@fabrikam.example", in: s.contoso)
      // Day 35: Giovanna signed in 25 days ago, Lee never (created 35 days ago), Kim never (created today).
      let thirty = try await s.admin.guests.listGuests(ListGuestsRequest(inactiveDays: 30))
      #expect(thirty.guests.map(\.id) == [pending.guest.id])
      let twenty = try await s.admin.guests.listGuests(ListGuestsRequest(inactiveDays: 20))
      #expect(Set(twenty.guests.map(\.id)) == [pending.guest.id, s.guest.id])
      #expect(!twenty.guests.map(\.id).contains(late.guest.id))
    }
  }

  @Test func updateGuestFieldsAndPermissions() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      let ann = try await s.contoso.makeUser("Ann", mail: "ann@contoso.com")
      let bob = try await s.contoso.makeUser("Bob", mail: "bob@contoso.com")
      let updated = try await s.admin.guests.updateGuest(UpdateGuestRequest(
        userID: s.guest.id, displayName: "Giovanna (Proseware)", sponsors: [ann.user.id, ann.user.id], updateMask: ["display_name", "sponsors"]))
      #expect(updated.displayName == "Giovanna (Proseware)" && updated.sponsors == [ann.user.id])
      // A sponsor may update its guest; other members and the guest itself may not.
      let later = server.clock.nowMillis() + 90 * 86_400_000
      let bySponsor = try await ann.client.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, accessExpiresAt: later, updateMask: ["access_expires_at"]))
      #expect(bySponsor.accessExpiresAt == later)
      await expectError(.permissionDenied) {
        try await bob.client.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, displayName: "X", updateMask: ["display_name"]))
      }
      await expectError(.permissionDenied) {
        try await s.asGuest.guests.updateGuest(UpdateGuestRequest(userID: "self", displayName: "X", updateMask: ["display_name"]))
      }
      // Sponsors: at most 5, members only.
      let six = (0..<6).map { "usr_\($0)" }
      await expectError(.invalidArgument) { try await s.admin.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, sponsors: six, updateMask: ["sponsors"])) }
      await expectError(.invalidArgument) {
        try await s.admin.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, sponsors: [s.guest.id], updateMask: ["sponsors"]))
      }
      await expectError(.invalidArgument) {
        try await s.admin.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, sponsors: [s.giovanna.user.id], updateMask: ["sponsors"]))
      }
      // Masks.
      await expectError(.invalidArgument) { try await s.admin.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, displayName: "X")) }
      await expectError(.invalidArgument) { try await s.admin.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, updateMask: ["mail"])) }
      await expectError(.invalidArgument) { try await s.admin.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, updateMask: ["*"])) }
      let cleared = try await s.admin.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, displayName: "G", updateMask: ["*"]))
      #expect(cleared.sponsors.isEmpty && cleared.accessExpiresAt == 0 && cleared.displayName == "G")
      // An expiry in the past ends access at once.
      _ = try await s.asGuest.tenants.getTenant(GetTenantRequest())
      _ = try await s.admin.guests.updateGuest(UpdateGuestRequest(
        userID: s.guest.id, accessExpiresAt: server.clock.nowMillis() - 1, updateMask: ["access_expires_at"]))
      await expectError(.permissionDenied) { try await s.asGuest.tenants.getTenant(GetTenantRequest()) }
      let events = try await server.audit(s.contoso, [.guestUpdated])
      #expect(events.count == 4)
      #expect(events.first?.details.contains(AuditDetail(key: "fields", value: "display_name,sponsors")) == true)
      #expect(events.allSatisfy { $0.targetID == s.guest.id && $0.outcome == .success })
    }
  }

  @Test func blockAndUnblockSignIn() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      let ann = try await s.contoso.makeUser("Ann", mail: "ann@contoso.com", roles: [.userAdmin])
      let plain = try await s.contoso.makeUser("Bob", mail: "bob@contoso.com")
      await expectError(.permissionDenied) { try await plain.client.guests.blockSignIn(BlockSignInRequest(userID: s.guest.id)) }
      await expectError(.notFound) { try await ann.client.guests.blockSignIn(BlockSignInRequest(userID: plain.user.id)) }
      let blocked = try await ann.client.guests.blockSignIn(BlockSignInRequest(userID: s.guest.id))
      #expect(!blocked.accountEnabled)
      await expectError(.permissionDenied, reason: .signInBlocked) { try await s.asGuest.tenants.getTenant(GetTenantRequest()) }
      // Her home account is unaffected; blocking again changes nothing.
      _ = try await s.giovanna.client.tenants.getTenant(GetTenantRequest())
      #expect(try await s.admin.guests.blockSignIn(BlockSignInRequest(userID: s.guest.id)) == blocked)
      let unblocked = try await s.admin.guests.unblockSignIn(UnblockSignInRequest(userID: s.guest.id))
      #expect(unblocked.accountEnabled)
      _ = try await s.asGuest.tenants.getTenant(GetTenantRequest())
      let again = try await s.admin.guests.unblockSignIn(UnblockSignInRequest(userID: s.guest.id))
      #expect(again.accountEnabled && again.updatedAt == unblocked.updatedAt)
      #expect(try await server.audit(s.contoso, [.guestSignInBlocked]).map(\.actorID) == [ann.user.id])
      #expect(try await server.audit(s.contoso, [.guestSignInUnblocked]).map(\.actorID) == [s.contoso.admin.id])
    }
  }
}
