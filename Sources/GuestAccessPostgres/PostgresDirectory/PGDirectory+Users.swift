import GuestAccessStorage
import GuestAccessProto

extension PGDirectory {
  func user(tenantID: String, id: String) throws -> User? {
    try db.first("SELECT data FROM users WHERE id = $1 AND tenant_id = $2\(lock)", [.text(id), .text(tenantID)]) {
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
    var sql = "SELECT u.data FROM users u"
    var conditions = ["u.tenant_id = $1", "u.id > $2"]
    var values: [PGValue] = [.text(tenantID), .text(cursor)]
    func bind(_ value: PGValue) -> String {
      values.append(value)
      return "$\(values.count)"
    }
    if let groupID = filter.groupID {
      sql += " JOIN group_members gm ON gm.user_id = u.id AND gm.group_id = \(bind(.text(groupID)))"
    }
    if let sponsorID = filter.sponsorID {
      sql += " JOIN user_sponsors us ON us.user_id = u.id AND us.sponsor_id = \(bind(.text(sponsorID)))"
    }
    if let applicationID = filter.applicationID {
      sql += " JOIN app_assignments aa ON aa.user_id = u.id AND aa.application_id = \(bind(.text(applicationID)))"
    }
    if let userType = filter.userType { conditions.append("u.user_type = \(bind(.int(userType.rawValue)))") }
    if let mail = filter.mail { conditions.append("u.mail = \(bind(.text(mail)))") }
    if let role = filter.role { conditions.append("strpos(u.roles, \(bind(.text(",\(role.rawValue),")))) > 0") }
    if let state = filter.externalState { conditions.append("u.external_state = \(bind(.int(state.rawValue)))") }
    if let domain = filter.domain { conditions.append("u.domain = \(bind(.text(domain)))") }
    if let since = filter.inactiveSince { conditions.append("u.activity_at < \(bind(.integer(since)))") }
    if let before = filter.expiringBefore {
      conditions.append("u.access_expires_at > 0 AND u.access_expires_at < \(bind(.integer(before)))")
    }
    if filter.onlyDeleted {
      conditions.append("u.deleted_at > 0")
    } else if !filter.includeDeleted {
      conditions.append("u.deleted_at = 0")
    }
    sql += " WHERE " + conditions.joined(separator: " AND ") + " ORDER BY u.id LIMIT \(bind(.int(limit)))"
    return try db.rows(sql, values) { try decode(User.self, $0.blob(0)) }
  }

  private func userValues(_ user: User) -> [PGValue] {
    let mail = user.mail.lowercased()
    let domain = mail.split(separator: "@").last.map(String.init) ?? ""
    let home = user.identities.first { $0.signInType == .homeTenant }
    return [
      .text(user.id), .text(user.tenantID), .text(mail), .text(domain), .int(user.userType.rawValue),
      .text("," + user.roles.map { String($0.rawValue) }.joined(separator: ",") + ","),
      .int(user.externalUserState.rawValue), .text(home?.issuer ?? ""), .text(home?.issuerAssignedID ?? ""),
      .integer(user.lastSignInAt), .integer(user.accessExpiresAt), .integer(user.deletedAt), .blob(user.serializedBytes()),
      .bool(user.accountEnabled), .integer(user.removalScheduledAt), .integer(Self.activityAt(user)),
    ]
  }

  /// The time inactivity counts from: the last sign-in, or creation for a user that never signed in.
  static func activityAt(_ user: User) -> Int64 {
    user.lastSignInAt != 0 ? user.lastSignInAt : user.createdAt
  }

  /// Mirrors a guest's sponsors into `user_sponsors` (the sponsor filter of ListGuests);
  /// a user just inserted has no rows to delete.
  func replaceSponsors(of user: User, isNew: Bool = false) throws {
    if !isNew { try db.run("DELETE FROM user_sponsors WHERE user_id = $1", [.text(user.id)]) }
    for sponsor in Set(user.sponsors) {
      try db.run("INSERT INTO user_sponsors (sponsor_id, user_id) VALUES ($1, $2)", [.text(sponsor), .text(user.id)])
    }
  }

  func insertUser(_ user: User) throws {
    let inserted = try db.run(
      """
      INSERT INTO users (id, tenant_id, mail, domain, user_type, roles, external_state, home_tenant_id, home_user_id,
        last_sign_in_at, access_expires_at, deleted_at, data, account_enabled, removal_scheduled_at, activity_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING
      """, userValues(user))
    if inserted == 0 { try conflict("a user with mail \(user.mail) already exists in the tenant") }
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
      [.text(id), .integer(lastSignInAt), .integer(Self.activityAt(user)), .blob(user.serializedBytes())])
  }

  func deleteUser(id: String) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run("DELETE FROM group_members WHERE user_id = $1", [.text(id)])
    try db.run("DELETE FROM app_assignments WHERE user_id = $1", [.text(id)])
    try db.run("DELETE FROM user_sponsors WHERE user_id = $1", [.text(id)])
    try db.run("DELETE FROM users WHERE id = $1", [.text(id)])
  }
}
