import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  public func recordDecision(request: RecordDecisionRequest, context: ServerContext) async throws -> ReviewDecision {
    let (principal, caller, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let reviewID = try Validation.id(request.accessReviewID, field: "access_review_id")
    let guestID = try Validation.id(request.guestUserID, field: "guest_user_id")
    guard request.decision == .approve || request.decision == .deny else {
      throw RPCError.invalidArgument(field: "decision", "must be APPROVE or DENY")
    }
    let justification = try Validation.text(request.justification, field: "justification", limit: 1000)
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var review = try writer.accessReview(tenantID: tenantID, id: reviewID) else { throw RPCError.notFound(
        kind: "access review", id: reviewID) }
      try Self.checkCanSee(review, principal: principal, caller: caller)
      guard review.status != .applied else {
        throw RPCError.failedPrecondition("access review \(reviewID) was applied; decisions can no longer change", reason: .reviewApplied)
      }
      guard var decision = try writer.reviewDecision(reviewID: reviewID, guestUserID: guestID) else {
        throw RPCError.notFound(kind: "guest in access review", id: guestID)
      }
      switch decision.decision {
      case .approve: review.approvedCount -= 1
      case .deny: review.deniedCount -= 1
      default: break
      }
      if request.decision == .approve { review.approvedCount += 1 } else { review.deniedCount += 1 }
      decision.decision = request.decision
      decision.justification = justification
      decision.reviewerID = caller.id
      decision.decidedAt = now
      try writer.putReviewDecision(decision)
      try writer.putAccessReview(review)
      try audit.record(writer, &events, tenantID: tenantID, action: .accessReviewDecisionRecorded, targetType: .accessReview,
                       targetID: reviewID, details: ["guest_user_id": guestID, "decision": request.decision.protoName])
      return decision
    }
  }

  public func applyAccessReview(request: ApplyAccessReviewRequest, context: ServerContext) async throws -> ApplyAccessReviewResponse {
    let (principal, _, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    try Access.requireAdmin(principal)
    let reviewID = try Validation.id(request.accessReviewID, field: "access_review_id")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var review = try writer.accessReview(tenantID: tenantID, id: reviewID) else { throw RPCError.notFound(
        kind: "access review", id: reviewID) }
      if review.status == .applied, let result = try writer.accessReviewResult(reviewID: reviewID) { return result }
      let removalAt = now + Int64(review.gracePeriodDays) * 86_400_000
      var result = ApplyAccessReviewResponse()
      var cursor = ""
      while true {
        let decisions = try writer.reviewDecisions(reviewID: reviewID, undecidedOnly: false, after: cursor, limit: 1000)
        for decision in decisions {
          guard var guest = try writer.user(tenantID: tenantID, id: decision.guestUserID), guest.deletedAt == 0 else {
            result.skippedCount += 1
            continue
          }
          switch decision.decision == .unspecified ? review.defaultDecision : decision.decision {
          case .approve:
            result.approvedCount += 1
          case .deny:
            result.deniedCount += 1
            guest.accountEnabled = false
            guest.removalScheduledAt = guest.removalScheduledAt == 0 ? removalAt : min(guest.removalScheduledAt, removalAt)
            guest.updatedAt = now
            try writer.updateUser(guest)
            try audit.record(writer, &events, tenantID: tenantID, action: .guestSignInBlocked, targetType: .user, targetID: guest.id,
                             details: ["access_review_id": reviewID, "removal_scheduled_at": String(guest.removalScheduledAt)])
          default:
            result.notReviewedCount += 1
          }
        }
        guard decisions.count == 1000, let last = decisions.last else { break }
        cursor = last.guestUserID
      }
      review.status = .applied
      review.appliedAt = now
      try writer.putAccessReview(review)
      result.accessReview = review
      result.removalScheduledAt = result.deniedCount > 0 ? removalAt : 0
      try writer.putAccessReviewResult(result)
      try audit.record(writer, &events, tenantID: tenantID, action: .accessReviewApplied, targetType: .accessReview, targetID: reviewID,
                       details: ["approved": String(result.approvedCount), "denied": String(result.deniedCount),
                                 "not_reviewed": String(result.notReviewedCount), "skipped": String(result.skippedCount)])
      return result
    }
  }
}
