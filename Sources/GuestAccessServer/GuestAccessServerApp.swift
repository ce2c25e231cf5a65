import GuestAccessCore
import GuestAccessTransport
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A whole GuestAccess server: transport, services, health and the drain
/// sequence. `guestd` only parses flags and runs it.
public final class GuestAccessServerApp: Sendable {
  /// The settings it runs with.
  public let settings: ServerSettings
  /// The health service (its statuses reflect readiness and draining).
  public let health: HealthService
  private let transport: TCPServerTransport
  private let server: RPCServer
  private let logger: Logger
  private let draining = Atomic<Bool>(false)

  /// Builds the server; nothing listens before `run`.
  public init(settings: ServerSettings, logger: Logger) throws {
    self.settings = settings
    self.logger = logger
    health = HealthService()
    transport = TCPServerTransport(
      configuration: TCPServerConfiguration(host: settings.host, port: settings.port, maxConnections: settings.maxConnections),
      logger: logger)
    server = RPCServer(transports: [transport], services: [health]) { error, method in
      logger.error("unexpected error in \(method): \(error)")
    }
  }

  /// Serves until a graceful shutdown has drained; `onListening` gets the bound port.
  public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await self.server.serve() }
      group.addTask {
        let port = try await self.transport.listeningPort()
        onListening(port)
      }
      try await group.waitForAll()
    }
  }

  /// The port, once listening.
  public func listeningPort() async throws -> Int {
    try await transport.listeningPort()
  }

  /// Health goes NOT_SERVING, then every connection gets GOAWAY; in-flight
  /// calls have the drain timeout to finish before connections are closed.
  public func beginGracefulShutdown() {
    guard !draining.exchange(true, ordering: .relaxed) else {
      logger.warning("second signal: stopping now")
      server.stop()
      return
    }
    health.enterDraining()
    server.beginGracefulShutdown()
    let timeout = settings.drainTimeout
    let server = self.server
    let logger = self.logger
    Task {
      try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
      logger.warning("drain timeout of \(timeout)s reached: closing remaining connections")
      server.stop()
    }
  }
}
