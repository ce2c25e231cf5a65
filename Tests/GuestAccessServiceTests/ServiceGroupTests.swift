import Foundation
import GuestAccessLocks
import GuestAccessServer
import Logging
import ServiceLifecycle
import Testing

/// guestd's lifecycle: every service runs in one `ServiceGroup`; a graceful
/// shutdown drains the RPC server first, then stops the other services in
/// reverse order, and a service whose work ends early is not a failure.
@Suite("Service group")
struct ServiceGroupTests {
  @Test func gracefulShutdownDrainsRPCFirstThenStopsEveryService() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-group-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let settings = try ServerSettings(
      listen: "127.0.0.1:0", dataDir: dataDir, publicBaseURL: "https://x.test", logLevel: "error", drainTimeout: 1,
      maxConnections: 100, environment: [:])
    let app = try GuestAccessServerApp(settings: settings, logger: logger)
    let events = LockedValue<[String]>([])
    // One that runs until its turn, one whose work ends at once.
    let listener = ServerService("listener", onShutdown: {}) {
      events.withLock { $0.append("listener started") }
      try? await gracefulShutdown()
      let health = app.health.status(of: "")
      events.withLock { $0.append("listener stopped, health \(health.map { "\($0)" } ?? "-")") }
    }
    let quick = ServerService("quick", onShutdown: {}) {
      events.withLock { $0.append("quick done") }
    }
    let run = Task { try await app.run(services: [quick, listener]) { _ in } }
    _ = try await app.listeningPort()
    try await Task.sleep(for: .milliseconds(200))
    app.beginGracefulShutdown()
    try await run.value  // no serviceFinishedUnexpectedly for `quick`
    let seen = events.withLock { $0 }
    #expect(seen.contains("quick done"))
    #expect(seen.contains("listener started"))
    // The RPC server drained (health NOT_SERVING) before the listener's turn came.
    #expect(seen.last == "listener stopped, health SERVING_STATUS_NOT_SERVING", "\(seen)")
  }

  /// A server asked to shut down before its group ran still ends.
  @Test func shutdownBeforeRunEnds() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-group-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let settings = try ServerSettings(
      listen: "127.0.0.1:0", dataDir: dataDir, publicBaseURL: "https://x.test", logLevel: "error", drainTimeout: 1,
      maxConnections: 100, environment: [:])
    let app = try GuestAccessServerApp(settings: settings, logger: logger)
    app.beginGracefulShutdown()
    try await app.run { _ in }
  }
}
