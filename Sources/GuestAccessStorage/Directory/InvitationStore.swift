import GuestAccessProto

/// Conditions of an invitation listing.
public struct InvitationFilter: Sendable, Hashable {
  /// Only this status.
  public var status: InvitationStatus?
  /// Only this (lower-case) email.
  public var invitedEmail: String?
  /// Only invitations of this guest.
  public var guestUserID: String?
  /// Only invitations by this inviter.
  public var invitedBy: String?

  /// No conditions.
  public init() {}
}

/// Queries of invitations, redemption, the outbox, rate windows and access reviews.
public protocol InvitationReader {
  /// An invitation of a tenant.
  func invitation(tenantID: String, id: String) throws -> Invitation?
  /// The invitation whose current ticket hashes to `ticketHash`, with that stored hash.
  func invitation(ticketHash: [UInt8]) throws -> (invitation: Invitation, storedHash: [UInt8])?
  /// Invitations newest first (descending id), below `cursor` ("" = from the newest).
  func invitations(tenantID: String, filter: InvitationFilter, after cursor: String, limit: Int) throws -> [Invitation]
  /// Pending invitations whose expiry is at or before `time` (any tenant).
  func pendingInvitations(expiringBy time: Int64, limit: Int) throws -> [Invitation]
  /// The tenant of an invitation (ids are unique across tenants).
  func invitationTenant(id: String) throws -> String?
  /// The count of a fixed window without changing it.
  func failureCount(key: String, now: Int64, windowMillis: Int64) throws -> Int
  /// A redemption session.
  func redemptionSession(id: String) throws -> RedemptionSession?
  /// The newest session of an invitation.
  func latestRedemptionSession(invitationID: String) throws -> RedemptionSession?
  /// A passcode sign-in session.
  func signInSession(id: String) throws -> SignInSession?
  /// Outbox messages due for delivery.
  func dueOutboxMessages(now: Int64, limit: Int) throws -> [OutboxMessage]
  /// Outbox messages waiting (any due time).
  func outboxDepth() throws -> Int
  /// The newest outbox message of an invitation.
  func latestOutboxMessage(invitationID: String) throws -> OutboxMessage?
  /// Users of any tenant removed at or before `time` (for purging).
  func removedUsers(removedBy time: Int64, limit: Int) throws -> [User]
  /// Guests (any tenant, not removed) whose access expired at or before
  /// `time` and who are still enabled, oldest expiry first.
  func expiredGuests(by time: Int64, limit: Int) throws -> [User]
  /// Guests (any tenant, not removed) whose scheduled removal is due at or
  /// before `time`, earliest first.
  func guestsDueForRemoval(by time: Int64, limit: Int) throws -> [User]
  /// An access review of a tenant.
  func accessReview(tenantID: String, id: String) throws -> AccessReview?
  /// Access reviews ordered by id descending (ids are time-ordered, so
  /// newest first), before `cursor` ("" = from the newest).
  func accessReviews(tenantID: String, status: AccessReviewStatus?, before cursor: String, limit: Int) throws -> [AccessReview]
  /// What applying a review did, once it was applied.
  func accessReviewResult(reviewID: String) throws -> ApplyAccessReviewResponse?
  /// Decisions of a review ordered by guest id after `cursor`.
  func reviewDecisions(reviewID: String, undecidedOnly: Bool, after cursor: String, limit: Int) throws -> [ReviewDecision]
  /// One decision row.
  func reviewDecision(reviewID: String, guestUserID: String) throws -> ReviewDecision?
}

/// Changes to invitations and the rest.
public protocol InvitationWriter: InvitationReader {
  /// Inserts an invitation with the hash of its ticket.
  func insertInvitation(_ invitation: Invitation, ticketHash: [UInt8]) throws
  /// Replaces an invitation; a non-nil `ticketHash` replaces the ticket (empty array = no ticket).
  func updateInvitation(_ invitation: Invitation, ticketHash: [UInt8]?) throws
  /// Inserts or replaces a redemption session.
  func putRedemptionSession(_ session: RedemptionSession) throws
  /// Inserts or replaces a sign-in session (attempts, state and expiry change).
  func putSignInSession(_ session: SignInSession) throws
  /// Deletes sign-in sessions created at or before `time`; returns how many.
  func deleteSignInSessions(createdBy time: Int64, limit: Int) throws -> Int
  /// Queues an outbox message; returns its id.
  func enqueue(_ message: OutboxMessage) throws -> Int64
  /// Replaces an outbox message's delivery state (and payload).
  func updateOutboxMessage(_ message: OutboxMessage) throws
  /// Counts one event in a fixed window; returns the count after it, and the window start.
  func countInWindow(key: String, now: Int64, windowMillis: Int64, add: Int) throws -> (count: Int, windowStart: Int64)
  /// Inserts or replaces an access review.
  func putAccessReview(_ review: AccessReview) throws
  /// Inserts or replaces a decision.
  func putReviewDecision(_ decision: ReviewDecision) throws
  /// Stores what applying a review did (keyed by the review id).
  func putAccessReviewResult(_ result: ApplyAccessReviewResponse) throws
}
