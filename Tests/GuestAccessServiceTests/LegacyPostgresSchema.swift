import GuestAccessPostgres

/// The PostgreSQL schema as guestd wrote it before both backends ran one
/// list of migrations (versions 1–5 recorded in `guestaccess_schema`),
/// word for word: the databases the migration tests upgrade.
enum LegacyPostgresSchema {
  static let migrations: [(version: Int, name: String, sql: String)] = [
    (version: 1, name: "directory, invitations, outbox, reviews, guest lifecycle", sql: """
      CREATE TABLE tenants (id text COLLATE "C" PRIMARY KEY, state bigint NOT NULL, data bytea NOT NULL);
      CREATE TABLE tenant_domains (domain text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id));
      CREATE INDEX tenant_domains_tenant ON tenant_domains(tenant_id);
      CREATE TABLE tenant_settings (tenant_id text COLLATE "C" PRIMARY KEY REFERENCES tenants(id), data bytea NOT NULL);
      CREATE TABLE cross_tenant_access (
        tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id), partner_tenant_id text COLLATE "C" NOT NULL, data bytea NOT NULL,
        PRIMARY KEY (tenant_id, partner_tenant_id));
      CREATE TABLE users (
        id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id), mail text COLLATE "C" NOT NULL, domain text COLLATE "C" NOT NULL,
        user_type bigint NOT NULL, roles text COLLATE "C" NOT NULL, external_state bigint NOT NULL, home_tenant_id text COLLATE "C" NOT NULL,
        home_user_id text COLLATE "C" NOT NULL, last_sign_in_at bigint NOT NULL, access_expires_at bigint NOT NULL, deleted_at bigint NOT NULL,
        data bytea NOT NULL, account_enabled bigint NOT NULL DEFAULT 1, removal_scheduled_at bigint NOT NULL DEFAULT 0,
        activity_at bigint NOT NULL DEFAULT 0);
      CREATE INDEX users_tenant ON users(tenant_id, id);
      CREATE UNIQUE INDEX users_tenant_mail ON users(tenant_id, mail) WHERE deleted_at = 0;
      CREATE INDEX users_tenant_type ON users(tenant_id, user_type, id);
      CREATE INDEX users_home ON users(home_user_id) WHERE home_user_id <> '';
      CREATE INDEX users_mail ON users(mail);
      CREATE INDEX users_tenant_domain ON users(tenant_id, domain, id);
      CREATE INDEX users_access_expiry ON users(access_expires_at) WHERE access_expires_at > 0 AND deleted_at = 0 AND account_enabled = 1;
      CREATE INDEX users_removal_due ON users(removal_scheduled_at) WHERE removal_scheduled_at > 0 AND deleted_at = 0;
      CREATE INDEX users_deleted_at ON users(deleted_at) WHERE deleted_at > 0;
      CREATE TABLE user_sponsors (
        sponsor_id text COLLATE "C" NOT NULL, user_id text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY (sponsor_id, user_id));
      CREATE INDEX user_sponsors_user ON user_sponsors(user_id);
      CREATE TABLE groups (id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id), data bytea NOT NULL);
      CREATE INDEX groups_tenant ON groups(tenant_id, id);
      CREATE TABLE group_members (
        group_id text COLLATE "C" NOT NULL REFERENCES groups(id), user_id text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id));
      CREATE INDEX group_members_user ON group_members(user_id, group_id);
      CREATE TABLE applications (id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id), data bytea NOT NULL);
      CREATE INDEX applications_tenant ON applications(tenant_id, id);
      CREATE TABLE app_assignments (
        application_id text COLLATE "C" NOT NULL REFERENCES applications(id), user_id text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (application_id, user_id));
      CREATE INDEX app_assignments_user ON app_assignments(user_id, application_id);
      CREATE TABLE credentials (
        id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL, user_id text COLLATE "C" NOT NULL, secret_hash bytea NOT NULL UNIQUE, data bytea NOT NULL);
      CREATE INDEX credentials_tenant ON credentials(tenant_id, id);
      CREATE INDEX credentials_user ON credentials(user_id, id);
      CREATE TABLE audit_events (
        sequence bigint PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL, action bigint NOT NULL, actor_id text COLLATE "C" NOT NULL, target_id text COLLATE "C" NOT NULL,
        occurred_at bigint NOT NULL, data bytea NOT NULL);
      CREATE INDEX audit_events_tenant ON audit_events(tenant_id, sequence);
      -- The next audit sequence number: taken by an UPDATE whose row lock is
      -- held until commit, so numbers commit in order and a follower reading
      -- after the last number it saw can never skip one.
      CREATE TABLE audit_sequence (id integer PRIMARY KEY CHECK (id = 1), value bigint NOT NULL);
      INSERT INTO audit_sequence VALUES (1, 0);
      -- Moved (and NOTIFY guestaccess_auth sent) in every transaction that
      -- changes what authentication reads: every guestd drops its cached principals.
      CREATE TABLE auth_generation (id integer PRIMARY KEY CHECK (id = 1), value bigint NOT NULL);
      INSERT INTO auth_generation VALUES (1, 0);
      CREATE TABLE idempotency_keys (
        scope text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, request_hash bytea NOT NULL, response bytea NOT NULL, created_at bigint NOT NULL,
        PRIMARY KEY (scope, key));
      CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
      CREATE TABLE invitations (
        id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id), invited_email text COLLATE "C" NOT NULL, status bigint NOT NULL,
        guest_user_id text COLLATE "C" NOT NULL, invited_by text COLLATE "C" NOT NULL, ticket_hash bytea UNIQUE, expires_at bigint NOT NULL, data bytea NOT NULL);
      CREATE INDEX invitations_tenant ON invitations(tenant_id, id);
      CREATE INDEX invitations_tenant_email ON invitations(tenant_id, invited_email, id);
      CREATE INDEX invitations_guest ON invitations(guest_user_id, id);
      CREATE INDEX invitations_pending_expiry ON invitations(expires_at) WHERE status = 1;
      CREATE TABLE redemption_sessions (
        id text COLLATE "C" PRIMARY KEY, invitation_id text COLLATE "C" NOT NULL REFERENCES invitations(id), passcode_hash bytea NOT NULL,
        expires_at bigint NOT NULL, attempts bigint NOT NULL, max_attempts bigint NOT NULL, state bigint NOT NULL, created_at bigint NOT NULL);
      CREATE INDEX redemption_sessions_invitation ON redemption_sessions(invitation_id, created_at);
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL, invitation_id text COLLATE "C" NOT NULL, kind text COLLATE "C" NOT NULL, recipient text COLLATE "C" NOT NULL,
        cc text COLLATE "C" NOT NULL, status bigint NOT NULL, attempts bigint NOT NULL, next_attempt_at bigint NOT NULL, last_error text COLLATE "C" NOT NULL,
        created_at bigint NOT NULL, sent_at bigint NOT NULL, payload text COLLATE "C" NOT NULL);
      CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
      CREATE INDEX outbox_invitation ON outbox(invitation_id, id);
      CREATE TABLE rate_windows (key text COLLATE "C" PRIMARY KEY, window_start bigint NOT NULL, count bigint NOT NULL);
      CREATE TABLE access_reviews (
        id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id), status bigint NOT NULL, data bytea NOT NULL);
      CREATE INDEX access_reviews_tenant ON access_reviews(tenant_id, id);
      CREATE TABLE review_decisions (
        review_id text COLLATE "C" NOT NULL REFERENCES access_reviews(id), guest_user_id text COLLATE "C" NOT NULL, decided bigint NOT NULL,
        data bytea NOT NULL, PRIMARY KEY (review_id, guest_user_id));
      CREATE INDEX users_removal ON users(tenant_id) WHERE deleted_at > 0;
      CREATE TABLE access_review_results (review_id text COLLATE "C" PRIMARY KEY REFERENCES access_reviews(id), data bytea NOT NULL);
      """),
    (version: 2, name: "audit events numbered at commit, commit flushes", sql: """
      -- Audit events are inserted under -nextval(audit_pending_sequence) (no
      -- lock: the sequence is outside transactions) and numbered from
      -- audit_sequence by the last statement before COMMIT, so its row is
      -- locked only while the commit is flushed, not for the whole transaction.
      CREATE SEQUENCE audit_pending_sequence;
      -- One row per session slot, written to flush the WAL after a commit
      -- that did not wait for its own flush (see PGDirectory.finalStatements).
      CREATE TABLE commit_flush (slot integer PRIMARY KEY, commits bigint NOT NULL);
      """),
    // The SQLite schema's version 7.
    (version: 3, name: "identity providers and federated identities", sql: """
      CREATE TABLE identity_providers (
        id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id), issuer text COLLATE "C" NOT NULL,
        data bytea NOT NULL, sealed_secret bytea NOT NULL);
      CREATE INDEX identity_providers_tenant ON identity_providers(tenant_id, id);
      CREATE INDEX identity_providers_issuer ON identity_providers(issuer, id);
      CREATE TABLE federated_identities (
        issuer text COLLATE "C" NOT NULL, subject text COLLATE "C" NOT NULL, tenant_id text COLLATE "C" NOT NULL,
        user_id text COLLATE "C" NOT NULL, PRIMARY KEY (issuer, subject, tenant_id));
      CREATE INDEX federated_identities_user ON federated_identities(user_id);
      """),
    // The SQLite schema's version 8.
    (version: 4, name: "passcode sign-in sessions", sql: """
      CREATE TABLE sign_in_sessions (
        id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL, user_id text COLLATE "C" NOT NULL,
        email text COLLATE "C" NOT NULL, passcode_hash bytea NOT NULL, expires_at bigint NOT NULL, attempts bigint NOT NULL,
        max_attempts bigint NOT NULL, state bigint NOT NULL, created_at bigint NOT NULL);
      CREATE INDEX sign_in_sessions_created ON sign_in_sessions(created_at);
      """),
    // The SQLite schema's version 9.
    (version: 5, name: "federated sign-ins", sql: """
      CREATE TABLE federated_sign_ins (
        state_hash bytea PRIMARY KEY, invitation_id text COLLATE "C" NOT NULL, tenant_id text COLLATE "C" NOT NULL,
        provider_id text COLLATE "C" NOT NULL, provider_tenant_id text COLLATE "C" NOT NULL, step bigint NOT NULL,
        nonce text COLLATE "C" NOT NULL, sealed_verifier bytea NOT NULL, expires_at bigint NOT NULL, state bigint NOT NULL,
        created_at bigint NOT NULL);
      CREATE INDEX federated_sign_ins_created ON federated_sign_ins(created_at);
      """),
  ]

  /// Makes the layout of legacy version `version` in the empty database at `uri`.
  static func create(uri: String, version: Int) throws {
    let connection = try PGConnection(uri: uri)
    try connection.execute(
      "CREATE TABLE guestaccess_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
    for migration in migrations where migration.version <= version {
      try connection.execute("BEGIN; " + migration.sql + "; COMMIT")
      try connection.run("INSERT INTO guestaccess_schema (version, name) VALUES ($1, $2)", [.int(migration.version), .text(migration.name)])
    }
  }
}
