import Foundation
import GuestAccessPostgres
import GuestAccessProto
import GuestAccessStorage
import Testing

/// One list of migrations for both backends (`Schema.migrations`): a database
/// made at an older version on either backend opens, keeps its data and
/// ends with exactly the schema of a fresh one.
@Suite("Schema migrations")
struct SchemaMigrationTests {
  private static let legacyTenant = Tenant(id: "ten_legacy", displayName: "Legacy", state: .active)

  @Test func renderingForPostgreSQLRewritesTypesOnlyWhereTheyStandAsWords() {
    let migration = Migration(
      version: 1, name: "t",
      sql: "CREATE TABLE TEXTS (id INTEGER PRIMARY KEY AUTOINCREMENT, TEXT_x TEXT NOT NULL, n INTEGER, b BLOB) WITHOUT ROWID;")
    #expect(migration.sql(for: .sqlite) == migration.sql)
    #expect(
      migration.sql(for: .postgres)
        == "CREATE TABLE TEXTS (id bigserial PRIMARY KEY, TEXT_x text COLLATE \"C\" NOT NULL, n bigint, b bytea);")
    let only = Migration(version: 2, name: "p", sql: "SELECT 1", only: .postgres)
    #expect(only.sql(for: .sqlite).isEmpty)
    #expect(only.sql(for: .postgres) == "SELECT 1")
  }

  // MARK: SQLite

  private func sqliteSchema(_ path: String) throws -> [String] {
    let connection = try SQLiteConnection(path: path, readOnly: true)
    return try connection.query("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name") { $0.text(0) }
  }

  @Test func anSQLiteDatabaseAtVersion5MigratesKeepingItsRowsAndEqualsAFreshOne() async throws {
    let directory = NSTemporaryDirectory() + "guestaccess-schema-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let old = try SQLiteDatabase(path: directory + "/old.sqlite", migrations: Array(Schema.migrations.prefix(5)))
    _ = try await old.write { connection in
      try connection.run("INSERT INTO tenants (id, state, data) VALUES (?1, 1, ?2)", [.text(Self.legacyTenant.id), .blob(Self.legacyTenant.serializedBytes())])
    }
    old.close()
    let migrated = try SQLiteDirectoryStore(path: directory + "/old.sqlite")
    #expect(try await migrated.read { try $0.tenant(id: Self.legacyTenant.id) } == Self.legacyTenant)
    migrated.close()
    try SQLiteDirectoryStore(path: directory + "/fresh.sqlite").close()
    #expect(try SQLiteConnection(path: directory + "/old.sqlite").pragma("user_version") == Int64(Schema.migrations.last!.version))
    let fresh = try sqliteSchema(directory + "/fresh.sqlite")
    #expect(fresh.contains { $0.hasPrefix("table federated_sign_ins") })
    #expect(try sqliteSchema(directory + "/old.sqlite") == fresh)
  }

  // MARK: PostgreSQL

  private func newDatabase() throws -> String {
    try TestDatabase.database(named: "ga_schema_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))
  }

  /// Every column, constraint, index and sequence of the schema (not the
  /// migration bookkeeping), one line each, sorted.
  private func postgresSchema(_ uri: String) throws -> [String] {
    let connection = try PGConnection(uri: uri)
    let bookkeeping = "('guestaccess_schema', 'guestaccess_migrations')"
    return try connection.rows(
      """
      SELECT line FROM (
        SELECT format('column %s.%s %s %s default=%s collation=%s position=%s', table_name, column_name, data_type, is_nullable,
          coalesce(column_default, ''), coalesce(collation_name, ''), ordinal_position) AS line
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN \(bookkeeping)
        UNION ALL
        SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT IN \(bookkeeping)
        UNION ALL
        SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT IN \(bookkeeping)
        UNION ALL
        SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = 'public'
        UNION ALL
        SELECT 'counter audit_sequence ' || value FROM audit_sequence
      ) lines ORDER BY line
      """
    ) { $0.text(0) }
  }

  @Test(
    .enabled(if: TestDatabase.postgresAvailable, "needs GUESTACCESS_TEST_POSTGRES_URL (run Scripts/test)"),
    arguments: [1, 2, 5])
  func aPostgreSQLDatabaseOfTheReleaseBeforeMigratesKeepingItsRowsAndEqualsAFreshOne(legacyVersion: Int) async throws {
    let uri = try newDatabase()
    try LegacyPostgresSchema.create(uri: uri, version: legacyVersion)
    // Rows as that release wrote them: a tenant and two numbered audit events.
    let seed = try PGConnection(uri: uri)
    try seed.run("INSERT INTO tenants (id, state, data) VALUES ($1, 1, $2)", [.text(Self.legacyTenant.id), .blob(Self.legacyTenant.serializedBytes())])
    for sequence in 1...2 {
      var event = AuditEvent()
      event.tenantID = Self.legacyTenant.id
      event.action = .groupCreated
      event.targetID = "grp_\(sequence)"
      try seed.run(
        "INSERT INTO audit_events (sequence, tenant_id, action, actor_id, target_id, occurred_at, data) VALUES ($1, $2, $3, '', $4, 0, $5)",
        [.int(sequence), .text(event.tenantID), .int(event.action.rawValue), .text(event.targetID), .blob(event.serializedBytes())])
    }
    try seed.execute("UPDATE audit_sequence SET value = 2")

    let store = try PostgresDirectoryStore(uri: uri, connections: 2)
    #expect(try await store.read { try $0.tenant(id: Self.legacyTenant.id) } == Self.legacyTenant)
    var event = AuditEvent()
    event.tenantID = Self.legacyTenant.id
    event.action = .groupCreated
    event.targetID = "grp_3"
    let appended = event
    try await store.write { _ = try $0.appendAudit(appended) }
    let events = try await store.read { try $0.auditEvents(tenantID: Self.legacyTenant.id, filter: AuditFilter(), limit: 10) }
    #expect(events.map(\.sequence).sorted() == [1, 2, 3])
    store.close()
    let versions = try seed.rows("SELECT version FROM guestaccess_migrations ORDER BY version") { Int($0.int64(0)) }
    #expect(versions == Schema.migrations.map(\.version))
    // Opening again migrates nothing.
    try PostgresDirectoryStore(uri: uri, connections: 1).close()

    let fresh = try newDatabase()
    try PostgresDirectoryStore(uri: fresh, connections: 1).close()
    var migratedSchema = try postgresSchema(uri)
    var freshSchema = try postgresSchema(fresh)
    // The counters hold what each database numbered.
    migratedSchema.removeAll { $0.hasPrefix("counter") }
    freshSchema.removeAll { $0.hasPrefix("counter") }
    #expect(freshSchema.contains { $0.hasPrefix("column federated_sign_ins.state_hash bytea") })
    #expect(migratedSchema == freshSchema)
    #expect(try postgresSchema(uri).contains("counter audit_sequence 3"))
  }

  @Test(.enabled(if: TestDatabase.postgresAvailable, "needs GUESTACCESS_TEST_POSTGRES_URL (run Scripts/test)"))
  func aPostgreSQLDatabaseNewerThanThisGuestdIsRefused() throws {
    let uri = try newDatabase()
    try PostgresDirectoryStore(uri: uri, connections: 1).close()
    let connection = try PGConnection(uri: uri)
    let newer = Schema.migrations.last!.version + 1
    try connection.run("INSERT INTO guestaccess_migrations (version, name) VALUES ($1, 'from the future')", [.int(newer)])
    #expect {
      try PostgresDirectoryStore(uri: uri, connections: 1)
    } throws: { error in
      (error as? PGError)?.message.contains("newer than this guestd") == true
    }
  }
}
