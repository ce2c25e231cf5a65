import ServiceLifecycle

/// One service of guestd's `ServiceGroup` (RPC, web, metrics, outbox,
/// sweeper, readiness, TLS reload, signals): runs `body` and, told to shut
/// down gracefully, calls `onShutdown`.
///
/// A `ServiceGroup` shuts its services down one at a time, in reverse order,
/// and takes one that returns before its turn for a failure. So a service
/// whose work ends early (the outbox worker stops when the drain begins, the
/// readiness watcher when the server drains) waits here for its turn.
public struct ServerService: Service, CustomStringConvertible {
  /// The name in the group's log lines.
  public let description: String
  private let body: @Sendable () async throws -> Void
  private let onShutdown: @Sendable () -> Void

  /// A service that runs `body` until it returns; `onShutdown` (called on the
  /// group's graceful shutdown, on another task) must make it return.
  public init(_ name: String, onShutdown: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () async throws -> Void) {
    self.description = name
    self.body = body
    self.onShutdown = onShutdown
  }

  /// A service whose `body` is cancelled on the group's graceful shutdown.
  public init(_ name: String, cancelledOnShutdown body: @escaping @Sendable () async throws -> Void) {
    self.description = name
    self.onShutdown = {}
    self.body = { try await cancelWhenGracefulShutdown { try await body() } }
  }

  public func run() async throws {
    try await withGracefulShutdownHandler {
      try await body()
    } onGracefulShutdown: {
      onShutdown()
    }
    // Done early: wait for this service's turn (at once when it came; a cancelled group ends the wait).
    try? await gracefulShutdown()
  }
}
