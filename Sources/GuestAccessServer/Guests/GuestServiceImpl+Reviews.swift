import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  /// Guests one review may cover; narrower scopes (a group) keep larger tenants reviewable.
  static let maxGuestsPerReview = 100_000

  public func createAccessReview(request: CreateAccessReviewRequest, context: ServerContext) async throws -> AccessReview {
    let (principal, caller, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    try Access.requireAdmin(principal)
    let name = try Validation.displayName(request.displayName)
    let key = try Validation.idempotencyKey(request.idempotencyKey)
    let groupID: String
    switch request.scope {
    case .allGuests:
      guard request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must be empty for ALL_GUESTS") }
      groupID = ""
    case .groupGuests:
      groupID = try Validation.id(request.groupID, field: "group_id")
    case .unspecified:
      throw RPCError.invalidArgument(field: "scope", "is required: ALL_GUESTS or GROUP_GUESTS")
    default:
      throw RPCError.invalidArgument(field: "scope", "unknown value")
    }
    var reviewers: [String] = []
    for (index, reviewer) in request.reviewerIDs.enumerated() {
      let id = try Validation.id(reviewer, field: "reviewer_ids[\(index)]")
      if !reviewers.contains(id) { reviewers.append(id) }
    }
    guard (1...20).contains(reviewers.count) else { throw RPCError.invalidArgument(field: "reviewer_ids", "name 1 to 20 reviewers") }
    guard (0...365).contains(request.gracePeriodDays) else {
      throw RPCError.invalidArgument(field: "grace_period_days", "must be 1 to 365 (0 = 30)")
    }
    switch request.defaultDecision {
    case .unspecified, .approve, .deny: break
    default: throw RPCError.invalidArgument(field: "default_decision", "unknown value")
    }
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    let reviewerIDs = reviewers
    return try await env.write { writer, events in
      var collected: [AuditEvent] = []
      let review = try Idempotency.run(writer, key: key, scope: "\(principal.actorID)|CreateAccessReview", request: request, now: now) {
        if !groupID.isEmpty, try writer.group(tenantID: tenantID, id: groupID) == nil { throw RPCError.notFound(kind: "group", id: groupID) }
        for (index, reviewer) in reviewerIDs.enumerated() {
          guard let user = try writer.user(tenantID: tenantID, id: reviewer), user.userType == .member, user.deletedAt == 0 else {
            throw RPCError.invalidArgument(field: "reviewer_ids[\(index)]", "is not a member of the tenant")
          }
        }
        var review = AccessReview(
          id: Self.newReviewID(now: now), tenantID: tenantID, displayName: name, scope: request.scope, groupID: groupID,
          reviewerIDs: reviewerIDs, gracePeriodDays: request.gracePeriodDays == 0 ? 30 : request.gracePeriodDays,
          defaultDecision: request.defaultDecision, status: .inProgress, createdBy: caller.id, createdAt: now)
        try writer.putAccessReview(review)
        review.guestCount = Int32(try snapshot(review, writer: writer))
        try writer.putAccessReview(review)
        try audit.record(writer, &collected, tenantID: tenantID, action: .accessReviewCreated, targetType: .accessReview,
                         targetID: review.id, details: ["scope": review.scope.protoName, "guest_count": String(review.guestCount)])
        return review
      }
      events += collected
      return review
    }
  }

  /// Fixes the guests in scope as undecided decision rows; returns how many.
  private func snapshot(_ review: AccessReview, writer: any DirectoryWriter) throws -> Int {
    var filter = UserFilter()
    filter.userType = .guest
    if !review.groupID.isEmpty { filter.groupID = review.groupID }
    var cursor = ""
    var count = 0
    while true {
      let guests = try writer.users(tenantID: review.tenantID, filter: filter, after: cursor, limit: 1000)
      count += guests.count
      guard count <= Self.maxGuestsPerReview else {
        throw RPCError.failedPrecondition(
          "a review covers at most \(Self.maxGuestsPerReview) guests; review a group instead", reason: .reviewTooLarge)
      }
      for guest in guests {
        try writer.putReviewDecision(ReviewDecision(
          accessReviewID: review.id, guestUserID: guest.id, guestDisplayName: guest.displayName, guestMail: guest.mail,
          guestLastSignInAt: guest.lastSignInAt))
      }
      guard guests.count == 1000, let last = guests.last else { return count }
      cursor = last.id
    }
  }

  /// Review ids sort by creation time (then randomly), so id order is age order.
  static func newReviewID(now: Int64) -> String {
    let hex = String(UInt64(max(0, now)), radix: 16)
    return "arv_" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex + Secrets.newID(prefix: "").prefix(16)
  }
}
