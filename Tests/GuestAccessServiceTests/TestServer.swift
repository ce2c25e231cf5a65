import Foundation
import GuestAccessClient
import GuestAccessLocks
import GuestAccessServer
import GuestAccessTestSupport
import Logging
import Testing

/// A clock tests can move. It stands still unless told to follow real time
/// (`followRealTime`), as tests whose peer signs with the real clock (an
/// identity provider's `iat`) need: a clock set once to real time fell
/// behind a token's `iat` by more than the allowed skew whenever a loaded
/// machine took over a minute to reach the provider's sign-in.
final class TestClock: ServerClock {
  private struct State {
    /// The time (ms), or while following real time its offset from real time.
    var millis: Int64
    var followsRealTime: Bool
  }

  private let state = LockedValue(State(millis: 1_800_000_000_000, followsRealTime: false))

  func nowMillis() -> Int64 {
    state.withLock { $0.followsRealTime ? Self.realMillis() + $0.millis : $0.millis }
  }

  func advance(seconds: Int64) { state.withLock { $0.millis += seconds * 1000 } }

  /// Sets the clock to real time plus `offsetSeconds` and from then on lets
  /// it run with real time (`advance` still moves it).
  func followRealTime(offsetSeconds: Int64 = 0) {
    state.withLock { $0 = State(millis: offsetSeconds * 1000, followsRealTime: true) }
  }

  private static func realMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A running guestd (real TCP, real SQLite in a temporary directory, or a
/// database of its own on the test PostgreSQL cluster: `TestDatabase`) and clients for it.
struct TestServer: Sendable {
  let app: GuestAccessServerApp
  let port: Int
  let dataDir: String
  let clock: TestClock
  /// How clients connect: nil for plaintext.
  var tls: TLSConfiguration?
  static let operatorKey = "test-operator-key-0123456789abcdefghijklmnop"

  /// A client with `credential`, acting in `tenant`.
  func client(_ credential: String?, tenant: String? = nil) -> GuestAccessClient {
    GuestAccessClient(host: "127.0.0.1", port: port, credential: credential, tenant: tenant, tls: tls, retryPolicy: .none)
  }

  /// The operator's client.
  var operatorClient: GuestAccessClient { client(Self.operatorKey) }

  /// Creates a tenant; returns it with its admin's client and secret.
  func makeTenant(_ name: String, domain: String, admin: String? = nil) async throws -> TestTenant {
    let response = try await operatorClient.tenants.createTenant(CreateTenantRequest(
      displayName: name, verifiedDomains: [domain], adminDisplayName: "\(name) Admin", adminMail: admin ?? "admin@\(domain)"))
    return TestTenant(tenant: response.tenant, admin: response.admin, secret: response.adminSecret, server: self)
  }
}

/// A tenant made by a test, with its first admin.
struct TestTenant: Sendable {
  let tenant: Tenant
  let admin: User
  let secret: String
  let server: TestServer

  var id: String { tenant.id }
  var adminClient: GuestAccessClient { server.client(secret) }

  /// Creates a member with its own credential.
  func makeUser(_ name: String, mail: String, roles: [Role] = []) async throws -> (user: User, client: GuestAccessClient, secret: String) {
    let user = try await adminClient.tenants.createUser(CreateUserRequest(displayName: name, mail: mail, roles: roles))
    let issued = try await adminClient.tenants.issueCredential(IssueCredentialRequest(userID: user.id, displayName: "test"))
    return (user, server.client(issued.secret), issued.secret)
  }
}

/// Starts a real server on a free port with a fresh data directory, runs `body`, stops it.
/// `configure` adjusts the settings (e.g. the email transport); a given
/// `dataDir` (and `clock`) is reused and kept, so a test can restart a server on it.
/// With `clientTLS`, the server's clients (and the readiness check) connect over TLS.
func withTestServer(
  dataDir existingDataDir: String? = nil, clock existingClock: TestClock? = nil, clientTLS: TLSConfiguration? = nil,
  configure: (inout ServerSettings) throws -> Void = { _ in }, _ body: (TestServer) async throws -> Void
) async throws {
  let dataDir = existingDataDir ?? NSTemporaryDirectory() + "guestaccess-test-" + UUID().uuidString
  let clock = existingClock ?? TestClock()
  var settings = try ServerSettings(
    listen: "127.0.0.1:0", dataDir: dataDir, publicBaseURL: "https://guests.example.test", logLevel: "error", drainTimeout: 2,
    maxConnections: 1000, operatorKey: TestServer.operatorKey, environment: [:])
  settings.email.pollInterval = 0.02
  settings.database = try TestDatabase.location(dataDir: dataDir)
  settings.databaseConnections = 2
  try configure(&settings)
  var logger = Logger(label: "test")
  logger.logLevel = .critical
  let app = try GuestAccessServerApp(settings: settings, logger: logger, clock: clock)
  let running = Task { try await app.run { _ in } }
  defer {
    app.beginGracefulShutdown()
    if existingDataDir == nil { try? FileManager.default.removeItem(atPath: dataDir) }
  }
  let port = try await app.listeningPort()
  try await waitUntilServing(port: port, tls: clientTLS)
  try await body(TestServer(app: app, port: port, dataDir: dataDir, clock: clock, tls: clientTLS))
  app.beginGracefulShutdown()
  _ = try? await running.value
  if existingDataDir == nil { TestDatabase.drop(dataDir: dataDir) }
}

private func waitUntilServing(port: Int, tls: TLSConfiguration?) async throws {
  let client = GuestAccessClient(host: "127.0.0.1", port: port, tls: tls, retryPolicy: .none)
  defer { client.close() }
  let deadline = ContinuousClock.now + .seconds(4).scaled
  while ContinuousClock.now < deadline {
    if let response = try? await client.health.check(HealthCheckRequest(service: "guestaccess.v1.TenantService")),
      response.status == .serving
    {
      return
    }
    try await Task.sleep(for: .milliseconds(20))
  }
  Issue.record("server did not become ready")
}

/// Asserts that `body` fails with `code` (and `reason`, when given).
func expectError<T>(
  _ code: RPCError.Code, reason: ErrorReason? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async {
  do {
    _ = try await body()
    Issue.record("expected \(code.name), but the call succeeded", sourceLocation: sourceLocation)
  } catch let error as RPCError {
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    if let reason { #expect(error.reason == reason, "\(error)", sourceLocation: sourceLocation) }
  } catch {
    Issue.record("expected RPCError \(code.name), got \(error)", sourceLocation: sourceLocation)
  }
}
