import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessTestSupport
import Logging
import Testing

/// A real server (TCP, SQLite) running in the test process for the tools to
/// talk to. Its data directory is `<workDir>/guestaccess-data`, as
/// `Scripts/serve` makes it, and the operator key is the one the server
/// writes to `operator.key` on first start.
struct ToolServer: Sendable {
  /// The running server.
  let app: GuestAccessServerApp
  /// Its port on 127.0.0.1.
  let port: Int
  /// The directory holding `guestaccess-data` (a temporary directory).
  let workDir: String
  /// The operator key read from `guestaccess-data/operator.key`.
  let operatorKey: String

  /// `127.0.0.1:<port>`.
  var address: String { "127.0.0.1:\(port)" }

  /// Runs `guestctl arguments… --json` as `key`.
  func guestctl(_ arguments: String..., key: String?) async throws -> ToolResult {
    try await Tools.guestctlJSON(arguments, server: port, key: key)
  }

  /// Runs `guestctl arguments… --json` as `key`, expecting success, and decodes its output.
  func guestctl<T: Decodable>(
    _ type: T.Type, _ arguments: String..., key: String?, sourceLocation: SourceLocation = #_sourceLocation
  ) async throws -> T {
    let result = try await Tools.guestctlJSON(arguments, server: port, key: key)
    #expect(result.status == 0, "guestctl \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
    return try result.decode(type, sourceLocation: sourceLocation)
  }
}

/// Starts a server on a free port in a fresh temporary directory, runs `body`, stops it.
/// `configure` adjusts the settings; a TLS server needs `clientTLS` for the readiness check.
func withToolServer(
  clientTLS: TLSConfiguration? = nil, configure: (inout ServerSettings) throws -> Void = { _ in },
  _ body: (ToolServer) async throws -> Void
) async throws {
  let workDir = NSTemporaryDirectory() + "guestaccess-tools-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
  let dataDir = workDir + "/guestaccess-data"
  var settings = try ServerSettings(
    listen: "127.0.0.1:0", dataDir: dataDir, publicBaseURL: "https://guests.example.test", logLevel: "error", drainTimeout: 2,
    maxConnections: 1000, operatorKey: nil, environment: [:])
  try configure(&settings)
  var logger = Logger(label: "tool-tests")
  logger.logLevel = .critical
  let app = try GuestAccessServerApp(settings: settings, logger: logger)
  let running = Task { try await app.run { _ in } }
  defer {
    app.beginGracefulShutdown()
    try? FileManager.default.removeItem(atPath: workDir)
  }
  let port = try await app.listeningPort()
  try await waitUntilReady(port: port, tls: clientTLS)
  let key = try String(contentsOfFile: dataDir + "/operator.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
  try await body(ToolServer(app: app, port: port, workDir: workDir, operatorKey: key))
  app.beginGracefulShutdown()
  _ = try? await running.value
}

/// Waits until the services report SERVING (storage is ready).
private func waitUntilReady(port: Int, tls: TLSConfiguration?) async throws {
  let client = GuestAccessClient(host: "127.0.0.1", port: port, tls: tls, retryPolicy: .none)
  defer { client.close() }
  let deadline = ContinuousClock.now + .seconds(5).scaled
  while ContinuousClock.now < deadline {
    if let response = try? await client.health.check(HealthCheckRequest(service: TenantService.serviceName)), response.status == .serving {
      return
    }
    try await Task.sleep(for: .milliseconds(20))
  }
  Issue.record("the server did not become ready")
}
