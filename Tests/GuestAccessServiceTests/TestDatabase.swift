import GuestAccessPostgres
import GuestAccessServer
import GuestAccessStorage
import Testing

/// The backend the service tests run against. `Scripts/test` runs the whole
/// service suite twice: on SQLite, then with `GUESTACCESS_TEST_BACKEND=postgres`
/// on the throwaway PostgreSQL cluster it started (`GUESTACCESS_TEST_POSTGRES_URL`).
/// Each test server gets a database of its own there.
enum TestDatabase {
  enum Backend: String { case sqlite, postgres }

  private static let environment = ServerSettings.processEnvironment()

  /// The backend of this run (SQLite unless `GUESTACCESS_TEST_BACKEND=postgres`).
  static let backend: Backend = environment["GUESTACCESS_TEST_BACKEND"].flatMap(Backend.init) ?? .sqlite

  /// The cluster's URL (a database name is appended), when Scripts/test started one.
  static let postgresURL: String? = environment["GUESTACCESS_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

  /// Whether Scripts/test runs the tests (then PostgreSQL tests must run, never skip).
  static let underScriptsTest = environment["GUESTACCESS_SCRIPTS_TEST"] == "1"

  /// For tests that need PostgreSQL whatever the backend (several guestd on
  /// one database): they run when a cluster is available, and are skipped,
  /// with this reason, only outside Scripts/test.
  static var postgresAvailable: Bool {
    if postgresURL == nil && underScriptsTest {
      Issue.record("Scripts/test must export GUESTACCESS_TEST_POSTGRES_URL: the PostgreSQL tests cannot be skipped there")
    }
    return postgresURL != nil
  }

  /// Whether this run has the tests of several guestd on one PostgreSQL:
  /// under Scripts/test in its PostgreSQL pass (where they must run), else
  /// whenever a cluster URL is given.
  static var runsMultiInstanceTests: Bool {
    guard postgresAvailable else { return false }
    return backend == .postgres || !underScriptsTest
  }

  /// Only on SQLite: tests that open the SQLite file itself.
  static var isSQLite: Bool { backend == .sqlite }

  /// The location of a test server's database for `dataDir`: the SQLite
  /// file, or a fresh PostgreSQL database named after the data directory
  /// (so a server restarted on the same data directory finds its data).
  static func location(dataDir: String) throws -> DatabaseLocation? {
    guard backend == .postgres else { return nil }
    guard postgresURL != nil else {
      Issue.record("GUESTACCESS_TEST_BACKEND=postgres needs GUESTACCESS_TEST_POSTGRES_URL (run Scripts/test)")
      return nil
    }
    return .postgres(uri: try database(named: databaseName(dataDir)))
  }

  /// Creates (if missing) the database `name` on the test cluster; returns its URI.
  static func database(named name: String) throws -> String {
    guard let url = postgresURL else { throw PGError(sqlState: "08001", message: "no test cluster") }
    let admin = try PGConnection(uri: uri(url, database: "postgres"))
    let exists = try admin.first("SELECT 1 FROM pg_database WHERE datname = $1", [.text(name)]) { $0.int64(0) } != nil
    if !exists { try admin.execute("CREATE DATABASE \(name)") }
    return uri(url, database: name)
  }

  /// Drops a test server's database (after the server stopped).
  static func drop(dataDir: String) {
    guard backend == .postgres, let url = postgresURL, let admin = try? PGConnection(uri: uri(url, database: "postgres")) else { return }
    try? admin.execute("DROP DATABASE IF EXISTS \(databaseName(dataDir)) WITH (FORCE)")
  }

  /// `postgres://user@host:port/DB` for the cluster URL `url` (which names no database).
  static func uri(_ url: String, database: String) -> String {
    var base = url
    while base.hasSuffix("/") { base.removeLast() }
    return base + "/" + database
  }

  /// A database name for a data directory: "ga_" and its last path component, as identifier characters.
  static func databaseName(_ dataDir: String) -> String {
    let last = dataDir.split(separator: "/").last.map(String.init) ?? dataDir
    return "ga_" + String(last.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(56))
  }
}

/// `--database` values: the two forms, and a clear error for anything else.
@Suite("Database locations")
struct DatabaseLocationTests {
  @Test func parsesSQLitePathsAndPostgresURIs() throws {
    #expect(try DatabaseLocation("sqlite:/var/lib/guestd/db.sqlite") == .sqlite(path: "/var/lib/guestd/db.sqlite"))
    #expect(try DatabaseLocation("sqlite:relative.db") == .sqlite(path: "relative.db"))
    let uri = "postgres://guestd@db.example:5432/guestaccess?sslmode=verify-full"
    #expect(try DatabaseLocation(uri) == .postgres(uri: uri))
    #expect(try DatabaseLocation("postgresql://h/db") == .postgres(uri: "postgresql://h/db"))
    #expect(DatabaseLocation.postgres(uri: "postgres://guestd:s3cret@db/ga").description == "postgres://guestd:***@db/ga")
  }

  @Test func refusesOtherValuesNamingTheFlag() throws {
    for bad in ["mysql://x/y", "sqlite:", "/just/a/path", ""] {
      #expect(throws: DatabaseLocationError.self) { try DatabaseLocation(bad) }
    }
    do {
      _ = try ServerSettings(
        listen: nil, dataDir: "/tmp/x", publicBaseURL: nil, logLevel: nil, drainTimeout: nil, maxConnections: nil,
        environment: ["GUESTD_DATABASE_URL": "mysql://root:pw@db/x"])
      Issue.record("accepted a MySQL URL")
    } catch let error as SettingsError {
      #expect(error.description.contains("--database (GUESTD_DATABASE_URL)"))
      #expect(!error.description.contains("pw"), "the password is not echoed")
    }
  }
}
