import GuestAccessProto

extension Schema {
  /// Version 3: columns and indexes the guest lifecycle filters on (sign-in
  /// blocks, scheduled removals, inactivity, sponsors, domains), and the
  /// stored outcome of applied access reviews. Existing rows are backfilled
  /// from their protobuf blobs.
  static let guestLifecycle = Migration(
    version: 3, name: "guest lifecycle: sweeps, sponsors, inactivity, review results",
    sql: """
      ALTER TABLE users ADD COLUMN account_enabled INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE users ADD COLUMN removal_scheduled_at INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE users ADD COLUMN activity_at INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE user_sponsors (
        sponsor_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (sponsor_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX user_sponsors_user ON user_sponsors(user_id);
      CREATE INDEX users_tenant_domain ON users(tenant_id, domain, id);
      CREATE INDEX users_access_expiry ON users(access_expires_at)
        WHERE access_expires_at > 0 AND deleted_at = 0 AND account_enabled = 1;
      CREATE INDEX users_removal_due ON users(removal_scheduled_at) WHERE removal_scheduled_at > 0 AND deleted_at = 0;
      CREATE INDEX users_deleted_at ON users(deleted_at) WHERE deleted_at > 0;
      CREATE TABLE access_review_results (
        review_id TEXT PRIMARY KEY REFERENCES access_reviews(id),
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      """,
    backfill: { connection in
      let directory = SQLiteDirectory(connection)
      var cursor = ""
      while true {
        let users = try connection.query("SELECT data FROM users WHERE id > ?1 ORDER BY id LIMIT 1000", [.text(cursor)]) {
          try directory.decode(User.self, $0.blob(0))
        }
        guard let last = users.last else { return }
        for user in users {
          try connection.run(
            "UPDATE users SET account_enabled = ?2, removal_scheduled_at = ?3, activity_at = ?4 WHERE id = ?1",
            [.text(user.id), .bool(user.accountEnabled), .integer(user.removalScheduledAt), .integer(DirectoryQuery.activityAt(user))])
          try directory.replaceSponsors(of: user)
        }
        cursor = last.id
      }
    })
}
