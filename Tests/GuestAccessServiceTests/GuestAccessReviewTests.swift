import GuestAccessClient
import Testing

@Suite("GuestService: access reviews")
struct GuestAccessReviewTests {
  @Test func reviewDecideApplyAndSweep() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      let admin = s.admin
      let reviewer = try await s.contoso.makeUser("Rita Reviewer", mail: "rita@contoso.com")
      let bystander = try await s.contoso.makeUser("Bob", mail: "bob@contoso.com")
      let lee = try await server.passcodeGuest("lee@fabrikam.example", in: s.contoso)
      let kim = try await server.pendingGuest("kim@fabrikam.example", in: s.contoso)
      let mo = try await server.pendingGuest("mo@fabrikam.example", in: s.contoso)
      let review = try await admin.guests.createAccessReview(CreateAccessReviewRequest(
        displayName: "Q3 contractor review", scope: .allGuests, reviewerIDs: [reviewer.user.id], gracePeriodDays: 14))
      #expect(review.status == .inProgress && review.guestCount == 4 && review.gracePeriodDays == 14 && review.createdBy == s.contoso.admin.id)
      // Reviewers and admins see it; other members and guests do not.
      #expect(try await reviewer.client.guests.getAccessReview(GetAccessReviewRequest(accessReviewID: review.id)) == review)
      await expectError(.permissionDenied) { try await bystander.client.guests.getAccessReview(GetAccessReviewRequest(accessReviewID: review.id)) }
      await expectError(.permissionDenied) { try await s.asGuest.guests.getAccessReview(GetAccessReviewRequest(accessReviewID: review.id)) }
      await expectError(.notFound) { try await s.proseware.adminClient.guests.getAccessReview(GetAccessReviewRequest(accessReviewID: review.id)) }
      let rows = try await reviewer.client.guests.listReviewDecisions(ListReviewDecisionsRequest(accessReviewID: review.id))
      #expect(Set(rows.decisions.map(\.guestUserID)) == [s.guest.id, lee.guest.id, kim.guest.id, mo.guest.id])
      #expect(rows.decisions.map(\.guestUserID) == rows.decisions.map(\.guestUserID).sorted())
      #expect(rows.decisions.first { $0.guestUserID == s.guest.id }?.guestMail == "gcarvalho@proseware.com")
      #expect(rows.decisions.allSatisfy { $0.decision == .unspecified && $0.reviewerID.isEmpty })
      await expectError(.permissionDenied) { try await bystander.client.guests.listReviewDecisions(ListReviewDecisionsRequest(accessReviewID: review.id)) }

      // Decisions: Giovanna approved, Lee denied (first approved, then changed), Kim left open, Mo removed meanwhile.
      func decide(_ guest: String, _ decision: ReviewDecisionType, by client: GuestAccessClient? = nil) async throws -> ReviewDecision {
        try await (client ?? reviewer.client).guests.recordDecision(RecordDecisionRequest(
          accessReviewID: review.id, guestUserID: guest, decision: decision, justification: "checked with the project lead"))
      }
      let approved = try await decide(s.guest.id, .approve)
      #expect(approved.reviewerID == reviewer.user.id && approved.decidedAt == server.clock.nowMillis())
      _ = try await decide(lee.guest.id, .approve, by: admin)
      _ = try await decide(lee.guest.id, .deny)
      await expectError(.permissionDenied) { try await decide(kim.guest.id, .deny, by: bystander.client) }
      await expectError(.invalidArgument) { try await decide(kim.guest.id, .unspecified) }
      await expectError(.notFound) { try await decide(bystander.user.id, .deny) }
      await expectError(.invalidArgument) {
        try await reviewer.client.guests.recordDecision(RecordDecisionRequest(
          accessReviewID: review.id, guestUserID: kim.guest.id, decision: .deny, justification: String(repeating: "x", count: 1001)))
      }
      let counted = try await admin.guests.getAccessReview(GetAccessReviewRequest(accessReviewID: review.id))
      #expect(counted.approvedCount == 1 && counted.deniedCount == 1)
      let open = try await reviewer.client.guests.listReviewDecisions(ListReviewDecisionsRequest(accessReviewID: review.id, undecidedOnly: true))
      #expect(Set(open.decisions.map(\.guestUserID)) == [kim.guest.id, mo.guest.id])
      _ = try await admin.guests.removeGuest(RemoveGuestRequest(userID: mo.guest.id))

      // Applying: admins only; the denied guest is blocked at once and scheduled for removal.
      await expectError(.permissionDenied) { try await reviewer.client.guests.applyAccessReview(ApplyAccessReviewRequest(accessReviewID: review.id)) }
      let applied = try await admin.guests.applyAccessReview(ApplyAccessReviewRequest(accessReviewID: review.id))
      let removalAt = server.clock.nowMillis() + 14 * 86_400_000
      #expect(applied.approvedCount == 1 && applied.deniedCount == 1 && applied.notReviewedCount == 1 && applied.skippedCount == 1)
      #expect(applied.removalScheduledAt == removalAt)
      #expect(applied.accessReview.status == .applied && applied.accessReview.appliedAt == server.clock.nowMillis())
      let blocked = try await admin.guests.getGuest(GetGuestRequest(userID: lee.guest.id))
      #expect(!blocked.accountEnabled && blocked.removalScheduledAt == removalAt)
      await expectError(.permissionDenied, reason: .signInBlocked) { try await server.client(lee.secret).tenants.getTenant(GetTenantRequest()) }
      _ = try await s.asGuest.tenants.getTenant(GetTenantRequest())
      // Applying again changes nothing and answers the same; decisions are closed.
      server.clock.advance(seconds: 60)
      #expect(try await admin.guests.applyAccessReview(ApplyAccessReviewRequest(accessReviewID: review.id)) == applied)
      await expectError(.failedPrecondition, reason: .reviewApplied) { try await decide(kim.guest.id, .deny) }
      #expect(try await server.audit(s.contoso, [.accessReviewApplied]).count == 1)
      #expect(try await server.audit(s.contoso, [.accessReviewDecisionRecorded]).count == 3)
      #expect(try await server.audit(s.contoso, [.accessReviewCreated]).map(\.targetID) == [review.id])

      // The grace period passes: the sweeper removes the denied guest, restorable as any removal.
      server.clock.advance(seconds: 13 * 86_400)
      try await server.app.sweeper.runOnce()
      #expect(try await admin.guests.getGuest(GetGuestRequest(userID: lee.guest.id)).deletedAt == 0)
      server.clock.advance(seconds: 86_400)
      try await server.app.sweeper.runOnce()
      let removed = try await admin.guests.getGuest(GetGuestRequest(userID: lee.guest.id))
      #expect(removed.deletedAt != 0 && removed.removalScheduledAt == 0)
      let event = try await server.audit(s.contoso, [.guestRemoved]).last
      #expect(event?.targetID == lee.guest.id && event?.actorType == .system)
    }
  }

  @Test func defaultDecisionsAndUnblockCancelsRemoval() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let group = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Vendors"))
      let inGroup = try await server.passcodeGuest("lee@fabrikam.example", in: contoso, grants: InvitationGrants(groupIDs: [group.id]))
      let outside = try await server.passcodeGuest("kim@fabrikam.example", in: contoso)
      let review = try await admin.guests.createAccessReview(CreateAccessReviewRequest(
        displayName: "Vendors", scope: .groupGuests, groupID: group.id, reviewerIDs: [contoso.admin.id], defaultDecision: .deny))
      #expect(review.guestCount == 1 && review.gracePeriodDays == 30)
      let applied = try await admin.guests.applyAccessReview(ApplyAccessReviewRequest(accessReviewID: review.id))
      #expect(applied.deniedCount == 1 && applied.approvedCount == 0 && applied.notReviewedCount == 0)
      #expect(try await admin.guests.getGuest(GetGuestRequest(userID: outside.guest.id)).accountEnabled)
      // Unblocking cancels the scheduled removal.
      let unblocked = try await admin.guests.unblockSignIn(UnblockSignInRequest(userID: inGroup.guest.id))
      #expect(unblocked.accountEnabled && unblocked.removalScheduledAt == 0)
      server.clock.advance(seconds: 31 * 86_400)
      try await server.app.sweeper.runOnce()
      #expect(try await admin.guests.getGuest(GetGuestRequest(userID: inGroup.guest.id)).deletedAt == 0)
      _ = try await server.client(inGroup.secret).tenants.getTenant(GetTenantRequest())
      // An approve-by-default review leaves everyone as is.
      let lenient = try await admin.guests.createAccessReview(CreateAccessReviewRequest(
        displayName: "All", scope: .allGuests, reviewerIDs: [contoso.admin.id], defaultDecision: .approve))
      let kept = try await admin.guests.applyAccessReview(ApplyAccessReviewRequest(accessReviewID: lenient.id))
      #expect(kept.approvedCount == 2 && kept.deniedCount == 0 && kept.removalScheduledAt == 0)
    }
  }

  @Test func createValidationListingAndIdempotency() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario()
      let admin = s.admin
      let rita = try await s.contoso.makeUser("Rita", mail: "rita@contoso.com")
      let bob = try await s.contoso.makeUser("Bob", mail: "bob@contoso.com")
      let group = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Vendors"))
      func create(_ request: CreateAccessReviewRequest) async throws -> AccessReview { try await admin.guests.createAccessReview(request) }
      let base = CreateAccessReviewRequest(displayName: "R", scope: .allGuests, reviewerIDs: [rita.user.id])
      var noScope = base
      noScope.scope = .unspecified
      await expectError(.invalidArgument) { try await create(noScope) }
      var groupWithAll = base
      groupWithAll.groupID = group.id
      await expectError(.invalidArgument) { try await create(groupWithAll) }
      var groupWithout = base
      groupWithout.scope = .groupGuests
      await expectError(.invalidArgument) { try await create(groupWithout) }
      groupWithout.groupID = "grp_unknown"
      await expectError(.notFound) { try await create(groupWithout) }
      var guestReviewer = base
      guestReviewer.reviewerIDs = [s.guest.id]
      await expectError(.invalidArgument) { try await create(guestReviewer) }
      var noReviewers = base
      noReviewers.reviewerIDs = []
      await expectError(.invalidArgument) { try await create(noReviewers) }
      var tooMany = base
      tooMany.reviewerIDs = (0..<21).map { "usr_\($0)" }
      await expectError(.invalidArgument) { try await create(tooMany) }
      var longGrace = base
      longGrace.gracePeriodDays = 366
      await expectError(.invalidArgument) { try await create(longGrace) }
      var unnamed = base
      unnamed.displayName = ""
      await expectError(.invalidArgument) { try await create(unnamed) }
      await expectError(.permissionDenied) { try await rita.client.guests.createAccessReview(base) }
      // Idempotent creation.
      var keyed = base
      keyed.idempotencyKey = "review-1"
      let first = try await create(keyed)
      #expect(try await create(keyed) == first)
      keyed.displayName = "Other"
      await expectError(.failedPrecondition, reason: .idempotencyKeyReused) { try await create(keyed) }
      // Listing: newest first, by status, by reviewer; reviewers see theirs.
      server.clock.advance(seconds: 1)
      var byBob = base
      byBob.reviewerIDs = [bob.user.id]
      let second = try await create(byBob)
      server.clock.advance(seconds: 1)
      let third = try await create(base)
      _ = try await admin.guests.applyAccessReview(ApplyAccessReviewRequest(accessReviewID: third.id))
      let all = try await admin.guests.listAccessReviews(ListAccessReviewsRequest())
      #expect(all.accessReviews.map(\.id) == [third.id, second.id, first.id])
      let page1 = try await admin.guests.listAccessReviews(ListAccessReviewsRequest(pageSize: 2))
      let page2 = try await admin.guests.listAccessReviews(ListAccessReviewsRequest(pageSize: 2, pageToken: page1.nextPageToken))
      #expect((page1.accessReviews + page2.accessReviews).map(\.id) == [third.id, second.id, first.id] && page2.nextPageToken.isEmpty)
      #expect(try await admin.guests.listAccessReviews(ListAccessReviewsRequest(status: .applied)).accessReviews.map(\.id) == [third.id])
      #expect(try await admin.guests.listAccessReviews(ListAccessReviewsRequest(reviewerID: bob.user.id)).accessReviews.map(\.id) == [second.id])
      let ritas = try await rita.client.guests.listAccessReviews(ListAccessReviewsRequest())
      #expect(ritas.accessReviews.map(\.id) == [third.id, first.id])
      let ritasPaged = try await rita.client.guests.listAccessReviews(ListAccessReviewsRequest(pageSize: 1, reviewerID: "self"))
      #expect(ritasPaged.accessReviews.map(\.id) == [third.id] && !ritasPaged.nextPageToken.isEmpty)
      await expectError(.permissionDenied) { try await rita.client.guests.listAccessReviews(ListAccessReviewsRequest(reviewerID: bob.user.id)) }
      await expectError(.permissionDenied) { try await s.asGuest.guests.listAccessReviews(ListAccessReviewsRequest()) }
    }
  }
}
