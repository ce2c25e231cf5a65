import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  /// Admins see every review; members only those they review.
  static func checkCanSee(_ review: AccessReview, principal: Principal, caller: User) throws(RPCError) {
    guard principal.isAdmin || (!principal.isGuest && review.reviewerIDs.contains(caller.id)) else {
      throw RPCError.permissionDenied("only admins and the review's reviewers may see access review \(review.id)")
    }
  }

  public func getAccessReview(request: GetAccessReviewRequest, context: ServerContext) async throws -> AccessReview {
    let (principal, caller, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let id = try Validation.id(request.accessReviewID, field: "access_review_id")
    let review = try await env.read { reader in try reader.accessReview(tenantID: tenantID, id: id) }
    guard let review else { throw RPCError.notFound(kind: "access review", id: id) }
    try Self.checkCanSee(review, principal: principal, caller: caller)
    return review
  }

  public func listAccessReviews(request: ListAccessReviewsRequest, context: ServerContext) async throws -> ListAccessReviewsResponse {
    let (principal, caller, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let size = try PageToken.size(request.pageSize)
    let listing = "access-reviews:\(tenantID)"
    let cursor = try PageToken.cursor(request.pageToken, listing: listing)
    let status: AccessReviewStatus?
    switch request.status {
    case .unspecified: status = nil
    case .inProgress, .applied: status = request.status
    default: throw RPCError.invalidArgument(field: "status", "unknown value")
    }
    var reviewer = request.reviewerID.isEmpty ? nil : try Self.userID(request.reviewerID, field: "reviewer_id", caller: principal)
    if !principal.isAdmin {
      guard !principal.isGuest else { throw RPCError.permissionDenied("guests may not list access reviews") }
      guard reviewer == nil || reviewer == caller.id else { throw RPCError.permissionDenied("you may list only the reviews you review") }
      reviewer = caller.id
    }
    let onlyReviewer = reviewer
    let rows = try await env.read { reader -> [AccessReview] in
      var rows: [AccessReview] = []
      var position = cursor
      while rows.count <= size {
        let batch = try reader.accessReviews(tenantID: tenantID, status: status, before: position, limit: 200)
        rows += batch.filter { onlyReviewer == nil || $0.reviewerIDs.contains(onlyReviewer!) }
        guard batch.count == 200, let last = batch.last else { break }
        position = last.id
      }
      return Array(rows.prefix(size + 1))
    }
    let page = PageToken.page(rows, size: size, listing: listing) { $0.id }
    return ListAccessReviewsResponse(accessReviews: page.items, nextPageToken: page.next)
  }

  public func listReviewDecisions(request: ListReviewDecisionsRequest, context: ServerContext) async throws -> ListReviewDecisionsResponse {
    let (principal, caller, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let id = try Validation.id(request.accessReviewID, field: "access_review_id")
    let size = try PageToken.size(request.pageSize)
    let listing = "review-decisions:\(id)"
    let cursor = try PageToken.cursor(request.pageToken, listing: listing)
    let undecidedOnly = request.undecidedOnly
    let rows = try await env.read { reader -> [ReviewDecision] in
      guard let review = try reader.accessReview(tenantID: tenantID, id: id) else { throw RPCError.notFound(kind: "access review", id: id) }
      try Self.checkCanSee(review, principal: principal, caller: caller)
      return try reader.reviewDecisions(reviewID: id, undecidedOnly: undecidedOnly, after: cursor, limit: size + 1)
    }
    let page = PageToken.page(rows, size: size, listing: listing) { $0.guestUserID }
    return ListReviewDecisionsResponse(decisions: page.items, nextPageToken: page.next)
  }
}
