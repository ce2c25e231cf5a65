import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessStorage
import Logging
import Testing

@Suite("Persistence")
struct PersistenceTests {
  @Test func restartKeepsEverything() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-restart-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    func start() throws -> GuestAccessServerApp {
      let settings = try ServerSettings(
        listen: "127.0.0.1:0", dataDir: dataDir, publicBaseURL: "https://x.test", logLevel: "error", drainTimeout: 1,
        maxConnections: 100, environment: [:])
      return try GuestAccessServerApp(settings: settings, logger: logger)
    }
    // First start creates the operator key file, owner-only.
    let first = try start()
    let run1 = Task { try await first.run { _ in } }
    let port1 = try await first.listeningPort()
    try await Task.sleep(for: .milliseconds(100))
    let keyPath = dataDir + "/operator.key"
    let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    let operatorKey = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let op = GuestAccessClient(host: "127.0.0.1", port: port1, credential: operatorKey, retryPolicy: .none)
    let created = try await op.tenants.createTenant(CreateTenantRequest(displayName: "Contoso", verifiedDomains: ["contoso.com"], adminMail: "admin@contoso.com"))
    let admin = GuestAccessClient(host: "127.0.0.1", port: port1, credential: created.adminSecret, retryPolicy: .none)
    let group = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Team"))
    op.close()
    admin.close()
    first.beginGracefulShutdown()
    _ = try? await run1.value

    let second = try start()
    let run2 = Task { try await second.run { _ in } }
    let port2 = try await second.listeningPort()
    try await Task.sleep(for: .milliseconds(100))
    let op2 = GuestAccessClient(host: "127.0.0.1", port: port2, credential: operatorKey, retryPolicy: .none)
    let admin2 = GuestAccessClient(host: "127.0.0.1", port: port2, credential: created.adminSecret, retryPolicy: .none)
    #expect(try await op2.tenants.getTenant(GetTenantRequest(tenantID: created.tenant.id)) == created.tenant)
    #expect(try await admin2.tenants.listGroups(ListGroupsRequest()).groups == [group])
    #expect(try await admin2.tenants.listAuditEvents(ListAuditEventsRequest()).events.count == 4)
    op2.close()
    admin2.close()
    second.beginGracefulShutdown()
    _ = try? await run2.value
  }

  @Test func migrationsRunFromAnEmptyDatabase() throws {
    let path = NSTemporaryDirectory() + "guestaccess-migrate-" + UUID().uuidString + ".sqlite"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = try SQLiteDirectoryStore(path: path)
    store.close()
    let connection = try SQLiteConnection(path: path)
    #expect(try connection.pragma("user_version") == Int64(Schema.migrations.last!.version))
    #expect(try connection.pragmaText("journal_mode") == "wal")
    let tables = try connection.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.text(0) }
    #expect(tables.contains("users") && tables.contains("audit_events") && tables.contains("idempotency_keys"))
    // Reopening does not migrate again.
    let again = try SQLiteDirectoryStore(path: path)
    again.close()
  }

  @Test func walStaysBoundedUnderSustainedWrites() async throws {
    let path = NSTemporaryDirectory() + "guestaccess-wal-" + UUID().uuidString + ".sqlite"
    defer {
      for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    // A small threshold so that a few thousand writes cross it many times.
    let threshold = 40
    let database = try SQLiteDatabase(
      path: path, migrations: [Migration(version: 1, name: "t", sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")],
      checkpointFrames: threshold)
    let payload = [UInt8](repeating: 7, count: 3000)
    for round in 0..<80 {
      try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<50 {
          group.addTask {
            let id = round * 50 + index
            _ = try await database.write { connection -> Int in
              try connection.run("INSERT INTO t (id, v) VALUES (?1, ?2)", [.int(id), .blob(payload)])
            }
          }
        }
        try await group.waitForAll()
      }
    }
    let rows = try await database.read { try $0.first("SELECT count(*) FROM t") { $0.int64(0) } }
    #expect(rows == 4000)
    let walBytes = (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
    // 4,000 rows of 3 KB went through: without restarts the WAL would hold them all (about 14 MB).
    // It restarts after complete checkpoints, so it stays within some thresholds' worth of frames
    // (a background checkpoint slowed down by a loaded machine lets a few more commits in).
    #expect(walBytes <= 20 * threshold * (4096 + 24) + 32, "WAL of \(walBytes) bytes")
    database.close()
  }
}
