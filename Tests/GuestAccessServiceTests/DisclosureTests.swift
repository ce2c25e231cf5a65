import GuestAccessClient
import Testing

/// Answers that must not reveal another tenant's directory
/// (docs/SECURITY.md, "What answers reveal").
@Suite("Disclosure")
struct DisclosureTests {
  /// With inbound collaboration blocked by default, inviting an address of
  /// another tenant's member answers as inviting an unknown one; the rules
  /// apply at redemption, to the redeemer's tenant.
  @Test func invitingAnswersAlikeWhoeverOwnsTheAddress() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let giovanna = try await proseware.makeUser("Giovanna", mail: "gcarvalho@proseware.com")
      var blocked = CrossTenantAccessEntry()
      blocked.inbound.usersAndGroups = CrossTenantAccessRule(accessType: .blocked)
      _ = try await contoso.adminClient.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: blocked))
      let member = try await contoso.makeUser("Mem", mail: "mem@contoso.com")
      let existing = try await member.client.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      let unknown = try await member.client.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "nobody@proseware.com"))
      #expect(existing.invitation.status == unknown.invitation.status)
      await expectError(.permissionDenied, reason: .crossTenantAccessBlocked) {
        try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: existing.invitation.ticket))
      }
      // Allowing the partner lets the same invitation be redeemed.
      var partner = CrossTenantAccessEntry(partnerTenantID: proseware.id)
      partner.inbound.usersAndGroups = CrossTenantAccessRule(accessType: .allowed)
      _ = try await contoso.adminClient.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: partner))
      let redeemed = try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: existing.invitation.ticket))
      #expect(redeemed.result == .accepted)
    }
  }

  /// Acting in another tenant without a guest link there answers NOT_A_GUEST,
  /// whether that tenant has a pending invitation for the caller's address,
  /// has none, or does not exist.
  @Test func actingTenantWithoutALinkAnswersUniformly() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let evil = try await server.makeTenant("Evil", domain: "evil.example")
      let probe = try await evil.makeUser("Probe", mail: "probe@evil.example")
      _ = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "target@outside.example"))
      _ = try await evil.adminClient.tenants.updateUser(UpdateUserRequest(userID: probe.user.id, mail: "target@outside.example", updateMask: ["mail"]))
      for tenant in [contoso.id, "ten_0000000000000000000000000000", evil.id + "x"] {
        await expectError(.permissionDenied, reason: .notAGuest) {
          try await server.client(probe.secret, tenant: tenant).tenants.getTenant(GetTenantRequest())
        }
      }
      _ = try await evil.adminClient.tenants.updateUser(UpdateUserRequest(userID: probe.user.id, mail: "other@outside.example", updateMask: ["mail"]))
      await expectError(.permissionDenied, reason: .notAGuest) {
        try await server.client(probe.secret, tenant: contoso.id).tenants.getTenant(GetTenantRequest())
      }
    }
  }
}
