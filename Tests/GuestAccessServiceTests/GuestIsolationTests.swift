import GuestAccessClient
import Testing

/// InvitationService and GuestService calls with one tenant's credentials
/// against the other tenant's invitations, guests and reviews fail without
/// revealing them; the only link across tenants is a guest's own.
@Suite("Tenant isolation: invitations and guests")
struct GuestIsolationTests {
  @Test func noInvitationOrGuestCallCrossesTenants() async throws {
    try await withTestServer { server in
      let a = try await server.makeTenant("Alpha", domain: "alpha.com")
      let b = try await server.makeTenant("Beta", domain: "beta.com")
      let bAdmin = b.adminClient
      let bApp = try await bAdmin.tenants.createApplication(CreateApplicationRequest(displayName: "B app"))
      let bGroup = try await bAdmin.tenants.createGroup(CreateGroupRequest(displayName: "B group"))
      let invited = try await bAdmin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "pending@partner.example"))
      let bInvitation = invited.invitation
      let bGuest = bInvitation.guestUserID
      let review = try await bAdmin.guests.createAccessReview(CreateAccessReviewRequest(
        displayName: "Q4", scope: .allGuests, reviewerIDs: [b.admin.id], gracePeriodDays: 1))
      let aMember = try await a.makeUser("Al", mail: "al@alpha.com")
      let before = try await bAdmin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events.count
      let secrets = [bInvitation.id, bGuest, review.id, bApp.id, bGroup.id, b.id]

      for (name, client) in [("admin", a.adminClient), ("member", aMember.client)] {
        let i = client.invitations
        let g = client.guests
        let calls: [(String, () async throws -> Any)] = [
          ("GetInvitation", { try await i.getInvitation(GetInvitationRequest(invitationID: bInvitation.id)) }),
          ("GetInvitation other tenant", { try await i.getInvitation(GetInvitationRequest(tenantID: b.id, invitationID: bInvitation.id)) }),
          ("ListInvitations other tenant", { try await i.listInvitations(ListInvitationsRequest(tenantID: b.id)) }),
          ("ListInvitations by guest", { try await i.listInvitations(ListInvitationsRequest(guestUserID: bGuest)) }),
          ("ResendInvitation", { try await i.resendInvitation(ResendInvitationRequest(invitationID: bInvitation.id)) }),
          ("RevokeInvitation", { try await i.revokeInvitation(RevokeInvitationRequest(invitationID: bInvitation.id)) }),
          ("CreateInvitation other tenant", { try await i.createInvitation(CreateInvitationRequest(tenantID: b.id, invitedEmail: "x@y.example")) }),
          ("CreateInvitation with B's grants", {
            try await i.createInvitation(CreateInvitationRequest(invitedEmail: "z@y.example", grants: InvitationGrants(groupIDs: [bGroup.id])))
          }),
          ("GetGuest", { try await g.getGuest(GetGuestRequest(userID: bGuest)) }),
          ("GetGuest other tenant", { try await g.getGuest(GetGuestRequest(tenantID: b.id, userID: bGuest)) }),
          ("ListGuests other tenant", { try await g.listGuests(ListGuestsRequest(tenantID: b.id)) }),
          ("UpdateGuest", { try await g.updateGuest(UpdateGuestRequest(userID: bGuest, displayName: "X", updateMask: ["display_name"])) }),
          ("BlockSignIn", { try await g.blockSignIn(BlockSignInRequest(userID: bGuest)) }),
          ("UnblockSignIn", { try await g.unblockSignIn(UnblockSignInRequest(userID: bGuest)) }),
          ("RemoveGuest", { try await g.removeGuest(RemoveGuestRequest(userID: bGuest)) }),
          ("RestoreGuest", { try await g.restoreGuest(RestoreGuestRequest(userID: bGuest)) }),
          ("ResetRedemption", { try await g.resetRedemption(ResetRedemptionRequest(userID: bGuest)) }),
          ("CheckAccess", { try await g.checkAccess(CheckAccessRequest(principalUserID: bGuest, resourceID: bApp.id, resourceType: .application)) }),
          ("CheckAccess other tenant", {
            try await g.checkAccess(CheckAccessRequest(tenantID: b.id, principalUserID: bGuest, resourceID: bApp.id, resourceType: .application))
          }),
          ("GetAccessReview", { try await g.getAccessReview(GetAccessReviewRequest(accessReviewID: review.id)) }),
          ("ListAccessReviews other tenant", { try await g.listAccessReviews(ListAccessReviewsRequest(tenantID: b.id)) }),
          ("ListReviewDecisions", { try await g.listReviewDecisions(ListReviewDecisionsRequest(accessReviewID: review.id)) }),
          ("RecordDecision", {
            try await g.recordDecision(RecordDecisionRequest(accessReviewID: review.id, guestUserID: bGuest, decision: .deny))
          }),
          ("ApplyAccessReview", { try await g.applyAccessReview(ApplyAccessReviewRequest(accessReviewID: review.id)) }),
          ("LeaveTenant other tenant", { try await g.leaveTenant(LeaveTenantRequest(tenantID: b.id)) }),
        ]
        for (call, body) in calls {
          do {
            let result = try await body()
            let text = "\(result)"
            #expect(!secrets.contains(where: { text.contains($0) }), "\(name) \(call) leaked another tenant's object: \(text.prefix(300))")
          } catch let error as RPCError {
            #expect([.notFound, .permissionDenied, .invalidArgument].contains(error.code), "\(name) \(call): \(error)")
            #expect(!error.message.contains("Beta") && !error.message.contains("pending@"), "\(name) \(call) leaked: \(error.message)")
          }
        }
      }
      let after = try await bAdmin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events.count
      #expect(after == before)
      let still = try await bAdmin.invitations.getInvitation(GetInvitationRequest(invitationID: bInvitation.id))
      #expect(still.status == .pendingAcceptance)
    }
  }
}
