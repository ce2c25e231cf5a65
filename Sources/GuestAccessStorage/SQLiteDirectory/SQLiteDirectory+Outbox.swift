import GuestAccessProto

extension SQLiteDirectory {
  static let outboxColumns = OutboxMessage.storedColumns

  /// An outbox row selected with `outboxColumns`.
  func outboxMessage(_ row: SQLiteStatement) -> OutboxMessage {
    OutboxMessage(storedRow: { row.text($0) }, { row.int64($0) })
  }

  func dueOutboxMessages(now: Int64, limit: Int) throws -> [OutboxMessage] {
    try db.query(
      "SELECT \(Self.outboxColumns) FROM outbox WHERE status = 1 AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
      [.integer(now), .int(limit)], outboxMessage)
  }

  func outboxDepth() throws -> Int {
    Int(try db.first("SELECT count(*) FROM outbox WHERE status = 1") { $0.int64(0) } ?? 0)
  }

  func latestOutboxMessage(invitationID: String) throws -> OutboxMessage? {
    try db.first("SELECT \(Self.outboxColumns) FROM outbox WHERE invitation_id = ?1 ORDER BY id DESC LIMIT 1", [.text(invitationID)], outboxMessage)
  }

  func enqueue(_ message: OutboxMessage) throws -> Int64 {
    try db.run(OutboxMessage.insert(.sqlite), message.insertValues)
    return db.lastInsertRowID
  }

  func updateOutboxMessage(_ message: OutboxMessage) throws {
    try db.run(OutboxMessage.deliveryUpdate(.sqlite), message.deliveryValues)
  }

  func removedUsers(removedBy time: Int64, limit: Int) throws -> [User] {
    try db.query("SELECT data FROM users WHERE deleted_at > 0 AND deleted_at <= ?1 ORDER BY deleted_at LIMIT ?2", [.integer(time), .int(limit)]) {
      try decode(User.self, $0.blob(0))
    }
  }

  func expiredGuests(by time: Int64, limit: Int) throws -> [User] {
    try db.query(
      """
      SELECT data FROM users WHERE access_expires_at > 0 AND deleted_at = 0 AND account_enabled = 1 AND access_expires_at <= ?1
        AND user_type = 2 ORDER BY access_expires_at LIMIT ?2
      """,
      [.integer(time), .int(limit)]
    ) { try decode(User.self, $0.blob(0)) }
  }

  func guestsDueForRemoval(by time: Int64, limit: Int) throws -> [User] {
    try db.query(
      """
      SELECT data FROM users WHERE removal_scheduled_at > 0 AND deleted_at = 0 AND removal_scheduled_at <= ?1 AND user_type = 2
        ORDER BY removal_scheduled_at LIMIT ?2
      """,
      [.integer(time), .int(limit)]
    ) { try decode(User.self, $0.blob(0)) }
  }

  func accessReview(tenantID: String, id: String) throws -> AccessReview? {
    try db.first("SELECT data FROM access_reviews WHERE id = ?1 AND tenant_id = ?2", [.text(id), .text(tenantID)]) {
      try decode(AccessReview.self, $0.blob(0))
    }
  }

  func accessReviews(tenantID: String, status: AccessReviewStatus?, before cursor: String, limit: Int) throws -> [AccessReview] {
    try db.query(
      "SELECT data FROM access_reviews WHERE tenant_id = ?1 AND (?2 = '' OR id < ?2) AND (?3 = 0 OR status = ?3) ORDER BY id DESC LIMIT ?4",
      [.text(tenantID), .text(cursor), .int(status?.rawValue ?? 0), .int(limit)]
    ) { try decode(AccessReview.self, $0.blob(0)) }
  }

  func accessReviewResult(reviewID: String) throws -> ApplyAccessReviewResponse? {
    try db.first("SELECT data FROM access_review_results WHERE review_id = ?1", [.text(reviewID)]) {
      try decode(ApplyAccessReviewResponse.self, $0.blob(0))
    }
  }

  func putAccessReviewResult(_ result: ApplyAccessReviewResponse) throws {
    try db.run(
      "INSERT INTO access_review_results (review_id, data) VALUES (?1, ?2) ON CONFLICT(review_id) DO UPDATE SET data = excluded.data",
      [.text(result.accessReview.id), .blob(result.serializedBytes())])
  }

  func reviewDecisions(reviewID: String, undecidedOnly: Bool, after cursor: String, limit: Int) throws -> [ReviewDecision] {
    try db.query(
      "SELECT data FROM review_decisions WHERE review_id = ?1 AND guest_user_id > ?2 AND (?3 = 0 OR decided = 0) ORDER BY guest_user_id LIMIT ?4",
      [.text(reviewID), .text(cursor), .bool(undecidedOnly), .int(limit)]
    ) { try decode(ReviewDecision.self, $0.blob(0)) }
  }

  func reviewDecision(reviewID: String, guestUserID: String) throws -> ReviewDecision? {
    try db.first("SELECT data FROM review_decisions WHERE review_id = ?1 AND guest_user_id = ?2", [.text(reviewID), .text(guestUserID)]) {
      try decode(ReviewDecision.self, $0.blob(0))
    }
  }

  func putAccessReview(_ review: AccessReview) throws {
    try db.run(
      "INSERT INTO access_reviews (id, tenant_id, status, data) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET status = excluded.status, data = excluded.data",
      [.text(review.id), .text(review.tenantID), .int(review.status.rawValue), .blob(review.serializedBytes())])
  }

  func putReviewDecision(_ decision: ReviewDecision) throws {
    try db.run(
      """
      INSERT INTO review_decisions (review_id, guest_user_id, decided, data) VALUES (?1, ?2, ?3, ?4)
      ON CONFLICT(review_id, guest_user_id) DO UPDATE SET decided = excluded.decided, data = excluded.data
      """,
      [.text(decision.accessReviewID), .text(decision.guestUserID), .bool(decision.decision != .unspecified), .blob(decision.serializedBytes())])
  }
}
