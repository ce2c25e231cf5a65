import GuestAccessStorage
import GuestAccessProto

extension PGDirectory {
  /// Shared lock in a write: most writes that read a user by id only check
  /// it (a sponsor, a reviewer, a credential's owner), and many of them name
  /// the same one (an administrator inviting). A write that then changes it
  /// still excludes every other writer of it until commit (two changing it
  /// at once deadlock, and one is run again).
  func user(tenantID: String, id: String) throws -> User? {
    try db.first("SELECT data FROM users WHERE id = $1 AND tenant_id = $2\(shareLock)", [.text(id), .text(tenantID)]) {
      try decode(User.self, $0.blob(0))
    }
  }

  func user(id: String) throws -> User? {
    try db.first("SELECT data FROM users WHERE id = $1\(lock)", [.text(id)]) { try decode(User.self, $0.blob(0)) }
  }

  func user(tenantID: String, mail: String) throws -> User? {
    try db.first("SELECT data FROM users WHERE tenant_id = $1 AND mail = $2 AND deleted_at = 0\(lock)", [.text(tenantID), .text(mail)]) {
      try decode(User.self, $0.blob(0))
    }
  }

  func users(mail: String) throws -> [User] {
    try db.rows("SELECT data FROM users WHERE mail = $1 AND deleted_at = 0 ORDER BY id\(lock)", [.text(mail)]) {
      try decode(User.self, $0.blob(0))
    }
  }

  func guestLinks(homeUserID: String) throws -> [User] {
    try db.rows("SELECT data FROM users WHERE home_user_id = $1 ORDER BY id\(lock)", [.text(homeUserID)]) {
      try decode(User.self, $0.blob(0))
    }
  }

  func users(tenantID: String, filter: UserFilter, after cursor: String, limit: Int) throws -> [User] {
    let query = DirectoryQuery.users(tenantID: tenantID, filter: filter, after: cursor, limit: limit, dialect: .postgres)
    return try db.rows(query.sql, query.values.map(PGValue.init)) { try decode(User.self, $0.blob(0)) }
  }

  private func userValues(_ user: User) -> [PGValue] {
    DirectoryQuery.userColumns(user).map(PGValue.init)
  }

  /// Mirrors a guest's sponsors into `user_sponsors` (the sponsor filter of ListGuests);
  /// a user just inserted has no rows to delete.
  func replaceSponsors(of user: User, isNew: Bool = false) throws {
    if !isNew { try db.run("DELETE FROM user_sponsors WHERE user_id = $1", [.text(user.id)]) }
    for sponsor in Set(user.sponsors).sorted() {
      try insert("INSERT INTO user_sponsors (sponsor_id, user_id) VALUES ($1, $2)", [.text(sponsor), .text(user.id)])
    }
  }

  func insertUser(_ user: User) throws {
    try insert(
      """
      INSERT INTO users (id, tenant_id, mail, domain, user_type, roles, external_state, home_tenant_id, home_user_id,
        last_sign_in_at, access_expires_at, deleted_at, data, account_enabled, removal_scheduled_at, activity_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
      """, userValues(user), conflict: "a user with mail \(user.mail) already exists in the tenant")
    if !user.sponsors.isEmpty { try replaceSponsors(of: user, isNew: true) }
  }

  func updateUser(_ user: User) throws {
    markInvalidatesCaches()  // authentication derives from this
    _ = try mapConflict("a user with mail \(user.mail) already exists in the tenant") {
      try db.run(
        """
        UPDATE users SET tenant_id = $2, mail = $3, domain = $4, user_type = $5, roles = $6, external_state = $7,
          home_tenant_id = $8, home_user_id = $9, last_sign_in_at = $10, access_expires_at = $11, deleted_at = $12, data = $13,
          account_enabled = $14, removal_scheduled_at = $15, activity_at = $16
        WHERE id = $1
        """, userValues(user))
    }
    if user.userType == .guest { try replaceSponsors(of: user) }
  }

  func touchUser(id: String, lastSignInAt: Int64) throws {
    guard var user = try self.user(id: id), user.lastSignInAt < lastSignInAt else { return }
    user.lastSignInAt = lastSignInAt
    try db.run(
      "UPDATE users SET last_sign_in_at = $2, activity_at = $3, data = $4 WHERE id = $1",
      [.text(id), .integer(lastSignInAt), .integer(DirectoryQuery.activityAt(user)), .blob(user.serializedBytes())])
  }

  func deleteUser(id: String) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run("DELETE FROM group_members WHERE user_id = $1", [.text(id)])
    try db.run("DELETE FROM app_assignments WHERE user_id = $1", [.text(id)])
    try db.run("DELETE FROM user_sponsors WHERE user_id = $1", [.text(id)])
    try db.run("DELETE FROM users WHERE id = $1", [.text(id)])
  }
}
