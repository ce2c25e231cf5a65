import GuestAccessClient
import Testing

@Suite("Invitation policy")
struct InvitationPolicyTests {
  @Test(arguments: [GuestInvitePolicy.everyone, .membersAndGuestInviters, .adminsAndGuestInviters, .nobody])
  func whoMayInvite(policy: GuestInvitePolicy) async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: TenantSettings(guestInvitePolicy: policy), updateMask: ["guest_invite_policy"]))
      let member = try await contoso.makeUser("Mem", mail: "mem@contoso.com")
      let inviter = try await contoso.makeUser("Inv", mail: "inv@contoso.com", roles: [.guestInviter])
      func attempt(_ client: GuestAccessClient, _ mail: String) async -> StatusCode {
        do {
          _ = try await client.invitations.createInvitation(CreateInvitationRequest(invitedEmail: mail))
          return .ok
        } catch let error as RPCError {
          #expect(error.reason == .inviteNotAllowed)
          return error.code.status
        } catch {
          return .unknown
        }
      }
      let byAdmin = await attempt(admin, "a@guest.example")
      let byMember = await attempt(member.client, "b@guest.example")
      let byInviter = await attempt(inviter.client, "c@guest.example")
      switch policy {
      case .everyone, .membersAndGuestInviters:
        #expect([byAdmin, byMember, byInviter] == [.ok, .ok, .ok])
      case .adminsAndGuestInviters:
        #expect([byAdmin, byMember, byInviter] == [.ok, .permissionDenied, .ok])
      default:
        #expect([byAdmin, byMember, byInviter] == [.permissionDenied, .permissionDenied, .permissionDenied])
      }
    }
  }

  @Test func domainListsAtInviteAndRedeemTime() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let giovanna = try await proseware.makeUser("Giovanna", mail: "gcarvalho@proseware.com")
      let admin = contoso.adminClient
      var deny = TenantSettings(collaborationDomainMode: .denyList, collaborationDomains: ["blocked.example", "*.evil.example"])
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: deny, updateMask: ["collaboration_domain_mode", "collaboration_domains"]))
      await expectError(.permissionDenied, reason: .domainNotAllowed) {
        try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "x@blocked.example"))
      }
      await expectError(.permissionDenied, reason: .domainNotAllowed) {
        try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "x@mail.evil.example"))
      }
      let pending = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      // The domain becomes blocked: the pending guest can no longer redeem.
      deny.collaborationDomains.append("proseware.com")
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: deny, updateMask: ["collaboration_domains"]))
      await expectError(.permissionDenied, reason: .domainNotAllowed) {
        try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: pending.invitation.ticket))
      }
      let allow = TenantSettings(collaborationDomainMode: .allowList, collaborationDomains: ["proseware.com"])
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: allow, updateMask: ["collaboration_domain_mode", "collaboration_domains"]))
      await expectError(.permissionDenied, reason: .domainNotAllowed) {
        try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "x@other.example"))
      }
      let redeemed = try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: pending.invitation.ticket))
      #expect(redeemed.result == .accepted)
    }
  }

  @Test func crossTenantRulesAtInviteRedeemAndUse() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let giovanna = try await proseware.makeUser("Giovanna", mail: "gcarvalho@proseware.com")
      let admin = contoso.adminClient
      let created = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      // Proseware blocks outbound collaboration with Contoso: redemption fails.
      var outbound = CrossTenantAccessEntry(partnerTenantID: contoso.id)
      outbound.outbound.usersAndGroups = CrossTenantAccessRule(accessType: .blocked)
      _ = try await proseware.adminClient.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: outbound))
      await expectError(.permissionDenied, reason: .crossTenantAccessBlocked) {
        try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      // Inviting answers alike whoever owns the address: the rules apply at redemption.
      let other = try await proseware.makeUser("Other", mail: "other@proseware.com")
      let otherInvitation = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "other@proseware.com"))
      await expectError(.permissionDenied, reason: .crossTenantAccessBlocked) {
        try await other.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: otherInvitation.invitation.ticket))
      }
      _ = try await proseware.adminClient.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: CrossTenantAccessEntry(partnerTenantID: contoso.id)))
      _ = try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      let asGuest = server.client(giovanna.secret, tenant: contoso.id)
      _ = try await asGuest.tenants.getTenant(GetTenantRequest())
      // Contoso now blocks inbound users from Proseware: every guest call is refused.
      var inbound = CrossTenantAccessEntry(partnerTenantID: proseware.id)
      inbound.inbound.usersAndGroups = CrossTenantAccessRule(accessType: .blocked)
      _ = try await admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: inbound))
      await expectError(.permissionDenied, reason: .crossTenantBlocked) { try await asGuest.tenants.getTenant(GetTenantRequest()) }
    }
  }

  @Test func memberAddressesRateLimitAndBulk() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      await expectError(.alreadyExists, reason: .memberExists) {
        try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "admin@contoso.com"))
      }
      await expectError(.invalidArgument) { try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "nope")) }
      await expectError(.invalidArgument) {
        try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "a@b.example", expiresInSeconds: 31 * 86_400))
      }
      await expectError(.notFound) {
        try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "a@b.example", grants: InvitationGrants(groupIDs: ["grp_missing"])))
      }
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(invitationRateLimit: 3, invitationRateWindowSeconds: 3600), updateMask: ["invitation_rate_limit", "invitation_rate_window_seconds"]))
      let bulk = try await admin.invitations.createInvitations(CreateInvitationsRequest(invitations: (0..<5).map {
        CreateInvitationRequest(invitedEmail: "guest\($0)@partner.example")
      } + [CreateInvitationRequest(invitedEmail: "broken")]))
      #expect(bulk.results.map(\.index) == [0, 1, 2, 3, 4, 5])
      #expect(bulk.succeededCount == 3)
      #expect(bulk.failedCount == 3)
      let limited = bulk.results.filter { $0.reason == "INVITE_RATE_LIMITED" }
      #expect(limited.count == 2)
      #expect(limited.allSatisfy { $0.code == StatusCode.resourceExhausted.rawValue })
      #expect(bulk.results[5].code == StatusCode.invalidArgument.rawValue)
      do {
        _ = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "late@partner.example"))
        Issue.record("expected the rate limit")
      } catch let error as RPCError {
        #expect(error.code == .resourceExhausted)
        #expect(error.reason == .inviteRateLimited)
        #expect((error.retryDelayMillis ?? 0) > 0)
      }
      server.clock.advance(seconds: 3600)
      _ = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "late@partner.example"))
    }
  }

  @Test func resendRevokeAndExpiredTickets() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let created = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "lee@partner.example", expiresInSeconds: 3600))
      let resent = try await admin.invitations.resendInvitation(ResendInvitationRequest(invitationID: created.invitation.id))
      #expect(resent.ticket != created.invitation.ticket)
      #expect(resent.emailDelivery.status == .queued)
      let anonymous = server.client(nil)
      await expectError(.notFound) { try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket)) }
      server.clock.advance(seconds: 8 * 86_400)
      await expectError(.failedPrecondition, reason: .invitationExpired) {
        try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: resent.ticket))
      }
      let listed = try await admin.invitations.listInvitations(ListInvitationsRequest(invitedEmail: "lee@partner.example"))
      #expect(listed.invitations.map(\.status) == [.expired])
      // Re-inviting an address whose invitation expired makes a new invitation for the same guest.
      let again = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "lee@partner.example"))
      #expect(!again.alreadyPending)
      #expect(again.invitation.guestUserID == created.invitation.guestUserID)
      let revoked = try await admin.invitations.revokeInvitation(RevokeInvitationRequest(invitationID: again.invitation.id, removeGuest: true))
      #expect(revoked.status == .revoked)
      await expectError(.notFound) { try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: again.invitation.ticket)) }
      let guest = try await admin.tenants.getUser(GetUserRequest(userID: created.invitation.guestUserID))
      #expect(guest.deletedAt != 0)
      await expectError(.failedPrecondition, reason: .guestRemoved) {
        try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "lee@partner.example"))
      }
      let member = try await contoso.makeUser("Mem", mail: "mem@contoso.com")
      await expectError(.notFound) { try await member.client.invitations.getInvitation(GetInvitationRequest(invitationID: created.invitation.id)) }
      let mine = try await member.client.invitations.listInvitations(ListInvitationsRequest())
      #expect(mine.invitations.isEmpty)
    }
  }
}
