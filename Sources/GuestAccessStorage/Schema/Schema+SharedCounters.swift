extension Schema {
  /// Version 10, PostgreSQL only: what several guestd on one database share.
  /// Every statement is written to run on a database that already has what
  /// it makes: a PostgreSQL database of the time before one list runs it
  /// again (see `PGMigrator`).
  static let sharedCounters = Migration(
    version: 10, name: "audit numbers at commit, authentication generation, commit flushes",
    sql: """
      -- Audit events are inserted under provisional negative numbers and
      -- numbered from audit_sequence by the last statement before COMMIT, so
      -- its row is locked only while the commit is recorded and numbers
      -- commit in order: a follower reading after the last number it saw can
      -- never skip one. No generated key, then.
      ALTER TABLE audit_events ALTER COLUMN sequence DROP DEFAULT;
      DROP SEQUENCE IF EXISTS audit_events_sequence_seq;
      -- The provisional numbers of the release before this list (-nextval):
      -- kept while its guestd may still run beside this one (a rolling upgrade).
      CREATE SEQUENCE IF NOT EXISTS audit_pending_sequence;
      CREATE TABLE IF NOT EXISTS audit_sequence (id integer PRIMARY KEY CHECK (id = 1), value bigint NOT NULL);
      INSERT INTO audit_sequence VALUES (1, coalesce((SELECT max(sequence) FROM audit_events), 0)) ON CONFLICT (id) DO NOTHING;
      -- Moved (and NOTIFY guestaccess_auth sent) in every transaction that
      -- changes what authentication reads: every guestd drops its cached principals.
      CREATE TABLE IF NOT EXISTS auth_generation (id integer PRIMARY KEY CHECK (id = 1), value bigint NOT NULL);
      INSERT INTO auth_generation VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
      -- One row per session slot, written to flush the WAL after a commit
      -- that did not wait for its own flush (PGDirectory.finalStatements).
      CREATE TABLE IF NOT EXISTS commit_flush (slot integer PRIMARY KEY, commits bigint NOT NULL);
      """, only: .postgres)
}
