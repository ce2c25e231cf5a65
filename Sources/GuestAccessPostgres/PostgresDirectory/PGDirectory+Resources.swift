import GuestAccessStorage
import GuestAccessProto

extension PGDirectory {
  func group(tenantID: String, id: String) throws -> Group? {
    try db.first("SELECT data FROM groups WHERE id = $1 AND tenant_id = $2\(lock)", [.text(id), .text(tenantID)]) {
      try decode(Group.self, $0.blob(0))
    }
  }

  func groups(tenantID: String, memberUserID: String?, after cursor: String, limit: Int) throws -> [Group] {
    if let memberUserID {
      return try db.rows(
        "SELECT g.data FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 AND g.tenant_id = $2 AND g.id > $3 ORDER BY g.id LIMIT $4",
        [.text(memberUserID), .text(tenantID), .text(cursor), .int(limit)]
      ) { try decode(Group.self, $0.blob(0)) }
    }
    return try db.rows(
      "SELECT data FROM groups WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3\(lock)", [.text(tenantID), .text(cursor), .int(limit)]
    ) { try decode(Group.self, $0.blob(0)) }
  }

  func isMember(groupID: String, userID: String) throws -> Bool {
    try db.first("SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2\(lock)", [.text(groupID), .text(userID)]) { _ in true } ?? false
  }

  func groupIDs(userID: String) throws -> [String] {
    try db.rows("SELECT group_id FROM group_members WHERE user_id = $1 ORDER BY group_id\(lock)", [.text(userID)]) { $0.text(0) }
  }

  func insertGroup(_ group: Group) throws {
    try insert(
      "INSERT INTO groups (id, tenant_id, data) VALUES ($1, $2, $3)", [.text(group.id), .text(group.tenantID), .blob(group.serializedBytes())],
      conflict: "group \(group.id) already exists")
  }

  func addMember(groupID: String, userID: String) throws -> Bool {
    markInvalidatesCaches()  // authentication derives from this
    return try db.run("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.text(groupID), .text(userID)]) > 0
  }

  func removeMember(groupID: String, userID: String) throws -> Bool {
    markInvalidatesCaches()  // authentication derives from this
    return try db.run("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2", [.text(groupID), .text(userID)]) > 0
  }

  func removeAllMemberships(userID: String) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run("DELETE FROM group_members WHERE user_id = $1", [.text(userID)])
  }

  func application(tenantID: String, id: String) throws -> Application? {
    try db.first("SELECT data FROM applications WHERE id = $1 AND tenant_id = $2\(lock)", [.text(id), .text(tenantID)]) {
      try decode(Application.self, $0.blob(0))
    }
  }

  func applications(tenantID: String, assignedUserID: String?, after cursor: String, limit: Int) throws -> [Application] {
    if let assignedUserID {
      return try db.rows(
        "SELECT a.data FROM app_assignments s JOIN applications a ON a.id = s.application_id WHERE s.user_id = $1 AND a.tenant_id = $2 AND a.id > $3 ORDER BY a.id LIMIT $4",
        [.text(assignedUserID), .text(tenantID), .text(cursor), .int(limit)]
      ) { try decode(Application.self, $0.blob(0)) }
    }
    return try db.rows(
      "SELECT data FROM applications WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3\(lock)", [.text(tenantID), .text(cursor), .int(limit)]
    ) { try decode(Application.self, $0.blob(0)) }
  }

  func isAssigned(applicationID: String, userID: String) throws -> Bool {
    try db.first("SELECT 1 FROM app_assignments WHERE application_id = $1 AND user_id = $2\(lock)", [.text(applicationID), .text(userID)]) { _ in true } ?? false
  }

  func applicationIDs(userID: String) throws -> [String] {
    try db.rows("SELECT application_id FROM app_assignments WHERE user_id = $1 ORDER BY application_id\(lock)", [.text(userID)]) { $0.text(0) }
  }

  func insertApplication(_ application: Application) throws {
    try insert(
      "INSERT INTO applications (id, tenant_id, data) VALUES ($1, $2, $3)",
      [.text(application.id), .text(application.tenantID), .blob(application.serializedBytes())],
      conflict: "application \(application.id) already exists")
  }

  func assign(applicationID: String, userID: String) throws -> Bool {
    try db.run("INSERT INTO app_assignments (application_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.text(applicationID), .text(userID)]) > 0
  }

  func unassign(applicationID: String, userID: String) throws -> Bool {
    try db.run("DELETE FROM app_assignments WHERE application_id = $1 AND user_id = $2", [.text(applicationID), .text(userID)]) > 0
  }

  func removeAllAssignments(userID: String) throws {
    try db.run("DELETE FROM app_assignments WHERE user_id = $1", [.text(userID)])
  }
}
