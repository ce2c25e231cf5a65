/// The versioned schema of the GuestAccess database, one list for both
/// backends (see `Migration` and docs/STORAGE.md). Rows keep their protobuf
/// form in `data` plus the columns that queries filter and order on.
public enum Schema {
  /// Every migration, oldest first. Never edit a released one; add a new version.
  public static let migrations: [Migration] = [
    Migration(version: 1, name: "directory", sql: """
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        state INTEGER NOT NULL,
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE tenant_domains (
        domain TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id)
      ) WITHOUT ROWID;
      CREATE INDEX tenant_domains_tenant ON tenant_domains(tenant_id);
      CREATE TABLE tenant_settings (
        tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE cross_tenant_access (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        partner_tenant_id TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (tenant_id, partner_tenant_id)
      ) WITHOUT ROWID;
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        mail TEXT NOT NULL,
        domain TEXT NOT NULL,
        user_type INTEGER NOT NULL,
        roles TEXT NOT NULL,
        external_state INTEGER NOT NULL,
        home_tenant_id TEXT NOT NULL,
        home_user_id TEXT NOT NULL,
        last_sign_in_at INTEGER NOT NULL,
        access_expires_at INTEGER NOT NULL,
        deleted_at INTEGER NOT NULL,
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX users_tenant ON users(tenant_id, id);
      CREATE UNIQUE INDEX users_tenant_mail ON users(tenant_id, mail) WHERE deleted_at = 0;
      CREATE INDEX users_tenant_type ON users(tenant_id, user_type, id);
      CREATE INDEX users_home ON users(home_user_id) WHERE home_user_id != '';
      CREATE INDEX users_mail ON users(mail);
      CREATE TABLE groups (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX groups_tenant ON groups(tenant_id, id);
      CREATE TABLE group_members (
        group_id TEXT NOT NULL REFERENCES groups(id),
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX group_members_user ON group_members(user_id, group_id);
      CREATE TABLE applications (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX applications_tenant ON applications(tenant_id, id);
      CREATE TABLE app_assignments (
        application_id TEXT NOT NULL REFERENCES applications(id),
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (application_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX app_assignments_user ON app_assignments(user_id, application_id);
      CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        secret_hash BLOB NOT NULL UNIQUE,
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX credentials_tenant ON credentials(tenant_id, id);
      CREATE INDEX credentials_user ON credentials(user_id, id);
      CREATE TABLE audit_events (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        action INTEGER NOT NULL,
        actor_id TEXT NOT NULL,
        target_id TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        data BLOB NOT NULL
      );
      CREATE INDEX audit_events_tenant ON audit_events(tenant_id, sequence);
      CREATE TABLE idempotency_keys (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash BLOB NOT NULL,
        response BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
      ) WITHOUT ROWID;
      """),
    Migration(version: 2, name: "invitations, redemption, outbox, access reviews", sql: """
      CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        invited_email TEXT NOT NULL,
        status INTEGER NOT NULL,
        guest_user_id TEXT NOT NULL,
        invited_by TEXT NOT NULL,
        ticket_hash BLOB UNIQUE,
        expires_at INTEGER NOT NULL,
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX invitations_tenant ON invitations(tenant_id, id);
      CREATE INDEX invitations_tenant_email ON invitations(tenant_id, invited_email, id);
      CREATE INDEX invitations_guest ON invitations(guest_user_id, id);
      CREATE INDEX invitations_pending_expiry ON invitations(expires_at) WHERE status = 1;
      CREATE TABLE redemption_sessions (
        id TEXT PRIMARY KEY,
        invitation_id TEXT NOT NULL REFERENCES invitations(id),
        passcode_hash BLOB NOT NULL,
        expires_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        state INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX redemption_sessions_invitation ON redemption_sessions(invitation_id, created_at);
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        invitation_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        recipient TEXT NOT NULL,
        cc TEXT NOT NULL,
        status INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER NOT NULL,
        payload TEXT NOT NULL
      );
      CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
      CREATE INDEX outbox_invitation ON outbox(invitation_id, id);
      CREATE TABLE rate_windows (
        key TEXT PRIMARY KEY,
        window_start INTEGER NOT NULL,
        count INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE access_reviews (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        status INTEGER NOT NULL,
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX access_reviews_tenant ON access_reviews(tenant_id, id);
      CREATE TABLE review_decisions (
        review_id TEXT NOT NULL REFERENCES access_reviews(id),
        guest_user_id TEXT NOT NULL,
        decided INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (review_id, guest_user_id)
      ) WITHOUT ROWID;
      CREATE INDEX users_removal ON users(tenant_id) WHERE deleted_at > 0;
      """),
    guestLifecycle,
    Migration(version: 4, name: "idempotency keys expire", sql: """
      CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
      """),
    // Passcodes are now stored as a keyed hash (HMAC with a key kept outside
    // the database); the open sessions' plain SHA-256 hashes can no longer be
    // checked, so they are closed: their guests ask for a new passcode.
    Migration(version: 5, name: "keyed passcode hashes", sql: """
      UPDATE redemption_sessions SET state = 3 WHERE state = 1;
      """),
    verifiedMail,
    federation,
    signInSessions,
    federatedSignIns,
    sharedCounters,
  ]
}
