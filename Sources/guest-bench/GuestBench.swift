import ArgumentParser
import GuestAccessClient
import GuestAccessProto
import GuestAccessServer
import GuestAccessStorage

/// `guest-bench`: helpers for the benchmark scripts (not part of the product's
/// everyday tools): bulk-seeding a stopped server's database.
@main
struct GuestBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guest-bench", abstract: "Benchmark helpers for GuestAccess.", subcommands: [SeedGuests.self, MakeTenant.self, FederatedMember.self, LinkIdentity.self, CrashSetup.self, CrashWriter.self, CrashVerify.self, RPCLoad.self, Handshakes.self, HoldConnections.self])
}

/// Inserts accepted guests into a tenant directly through the store (server stopped).
struct SeedGuests: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seed-guests", abstract: "Insert N accepted guests into a tenant of a stopped guestd's data directory.")

  @Option(name: .customLong("data-dir")) var dataDir: String
  @Option var tenant: String
  @Option var count: Int
  @Option(name: .customLong("batch")) var batch: Int = 10_000

  mutating func run() async throws {
    let store = try SQLiteDirectoryStore(path: dataDir + "/guestaccess.sqlite", readerCount: 1)
    defer { store.close() }
    let tenantID = tenant
    guard try await store.read({ try $0.tenant(id: tenantID) }) != nil else { throw ValidationError("no tenant \(tenantID)") }
    let started = ContinuousClock.now
    let now = SystemServerClock().nowMillis()
    var inserted = 0
    while inserted < count {
      let size = min(batch, count - inserted)
      let first = inserted
      try await store.write { writer in
        for index in first..<(first + size) {
          let mail = "seed\(index)@partner\(index % 97).example"
          let user = User(
            id: Secrets.newID(prefix: "usr_"), tenantID: tenantID, userType: .guest, displayName: "Seed Guest \(index)", mail: mail,
            accountEnabled: true, createdAt: now, updatedAt: now, externalUserState: .accepted, externalUserStateChangedAt: now,
            creationType: .invitation, identities: [Identity(signInType: .emailOtp, issuer: "mail", issuerAssignedID: mail)])
          try writer.insertUser(user)
        }
      }
      inserted += size
    }
    let elapsed = started.duration(to: .now)
    print("seeded \(inserted) guests into \(tenantID) in \(elapsed)")
  }
}

/// Creates a tenant with an application and a member assigned to it; prints
/// `tenant_id admin_secret` on one line.
struct MakeTenant: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "make-tenant", abstract: "Create a benchmark tenant; print its id and admin key.")

  @Option var server: String = "127.0.0.1:7700"
  @Option var key: String
  @Option var name: String

  mutating func run() async throws {
    guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
      throw ValidationError("--server must be HOST:PORT")
    }
    let op = GuestAccessClient(host: String(server[..<colon]), port: port, credential: key)
    defer { op.close() }
    let created = try await op.tenants.createTenant(CreateTenantRequest(
      displayName: name, verifiedDomains: ["\(name).example"], adminMail: "admin@\(name).example"))
    let admin = GuestAccessClient(host: String(server[..<colon]), port: port, credential: created.adminSecret)
    defer { admin.close() }
    let user = try await admin.tenants.createUser(CreateUserRequest(displayName: "Bench User", mail: "user@\(name).example"))
    let app = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Bench App"))
    _ = try await admin.tenants.assignApplication(AssignApplicationRequest(applicationID: app.id, userID: user.id))
    print("\(created.tenant.id) \(created.adminSecret)")
  }
}
