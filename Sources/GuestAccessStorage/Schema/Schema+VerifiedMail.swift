import GuestAccessProto

extension Schema {
  /// Version 6: `User.mail_verified` of existing members, from their
  /// tenant's verified domains (the flag lives in the protobuf blob).
  static let verifiedMail = Migration(
    version: 6, name: "members' mail_verified", sql: "SELECT 1;",
    backfill: { connection in
      let directory = SQLiteDirectory(connection)
      var domains: [String: [String]] = [:]
      var cursor = ""
      while true {
        let users = try connection.query(
          "SELECT data FROM users WHERE id > ?1 AND user_type = ?2 ORDER BY id LIMIT 1000", [.text(cursor), .int(UserType.member.rawValue)]
        ) { try directory.decode(User.self, $0.blob(0)) }
        guard let last = users.last else { return }
        for var user in users {
          if domains[user.tenantID] == nil { domains[user.tenantID] = try directory.tenant(id: user.tenantID)?.verifiedDomains ?? [] }
          let verified = MailVerification.isVerified(user, tenantDomains: domains[user.tenantID] ?? [])
          guard verified != user.mailVerified else { continue }
          user.mailVerified = verified
          try connection.run("UPDATE users SET data = ?2 WHERE id = ?1", [.text(user.id), .blob(user.serializedBytes())])
        }
        cursor = last.id
      }
    })
}
