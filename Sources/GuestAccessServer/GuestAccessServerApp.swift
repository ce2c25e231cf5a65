import GuestAccessAPI
import GuestAccessCore
import GuestAccessEmail
import GuestAccessStorage
import GuestAccessTLS
import GuestAccessTransport
import GuestAccessLocks
import Logging
import ServiceLifecycle
import UnixSignals
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A whole GuestAccess server: storage, services, authentication, transport,
/// health and the drain sequence. `guestd` only parses flags and runs it.
public final class GuestAccessServerApp: Sendable {
  /// The settings it runs with.
  public let settings: ServerSettings
  /// The health service (its statuses reflect readiness and draining).
  public let health: HealthService
  /// The store.
  public let store: any DirectoryStore
  /// What the services share.
  public let environment: ServiceEnvironment
  /// Delivers the outbox (invitation and passcode emails).
  public let outboxWorker: OutboxWorker
  /// The guest lifecycle sweeper; `run` sweeps in the background every
  /// `settings.sweepInterval` seconds, tests call `sweeper.runOnce()`.
  public let sweeper: Sweeper
  private let transport: TCPServerTransport
  private let server: RPCServer
  private let logger: Logger
  private let draining = Atomic<Bool>(false)
  private let group = LockedValue<ServiceGroup?>(nil)
  private let metrics: ServerMetrics
  /// The calls' metrics: the RPC's, and the web pages' calls into the
  /// services (one in-flight count and one set of series for both).
  public let callMetrics: MetricsInterceptor

  /// The services this server registers, in order.
  public static let serviceNames = [TenantService.serviceName, InvitationService.serviceName, GuestService.serviceName]

  /// Opens the data directory and the database; nothing listens before `run`.
  public init(settings: ServerSettings, logger: Logger, clock: any ServerClock = SystemServerClock()) throws {
    self.settings = settings
    self.logger = logger
    try Self.makeDirectory(settings.dataDir)
    let hasher = try SecretHasher.load(dataDir: settings.dataDir, configuredFile: settings.hashKeyFile, logger: logger)
    let metrics = ServerMetrics()
    self.metrics = metrics
    let location = settings.database ?? .sqlite(dataDir: settings.dataDir)
    logger.info("database: \(location)")
    let store = try StoreOpening.open(location, connections: settings.databaseConnections, logger: logger) { batch, duration in
      metrics.recordCommit(batch: batch, duration: duration)
    }
    self.store = store
    let auditHub = AuditHub()
    // Another guestd's audit events wake this one's watchers too.
    store.observeAuditCommits { tenants in auditHub.publish(tenantIDs: tenants) }
    var environment = ServiceEnvironment(
      store: store, clock: clock, auditHub: auditHub, hasher: hasher, defaultInvitationRateLimit: settings.defaultInvitationRateLimit,
      publicBaseURL: settings.publicBaseURL, logger: logger)
    environment.operatorKeyFile = OperatorBootstrap.keyFile(dataDir: settings.dataDir)
    environment.allowHTTPLoopbackIssuers = settings.oidcAllowHTTPLoopback
    environment.providers = ProviderConnector(allowPlainLoopback: settings.oidcAllowHTTPLoopback)
    self.environment = environment
    sweeper = Sweeper(environment: environment, interval: .milliseconds(Int64(max(settings.sweepInterval, 0.001) * 1000)))
    outboxWorker = OutboxWorker(environment: environment, transport: try Self.makeTransport(settings), settings: settings.email)
    health = HealthService()
    // Nothing is SERVING until storage has been found writable.
    for name in Self.serviceNames + [""] { health.setStatus(.notServing, for: name) }
    transport = TCPServerTransport(
      configuration: TCPServerConfiguration(
        host: settings.host, port: settings.port, maxConnections: settings.maxConnections,
        maxConnectionsPerPeer: settings.maxConnectionsPerPeer, maxRunningCallsPerPeer: settings.maxRunningCallsPerPeer,
        maxCallsBeforeAuthentication: settings.maxCallsBeforeAuthentication,
        sendTimeout: .milliseconds(Int64(settings.sendTimeout * 1000)), memoryBudget: settings.memoryBudgetMiB << 20,
        busyPoll: .microseconds(settings.busyPollMicros), tls: settings.tls.server,
        tlsReloadInterval: settings.tls.reloadInterval > 0 ? .milliseconds(Int64(settings.tls.reloadInterval * 1000)) : nil,
        proxyProtocolSources: settings.proxyProtocolSources),
      logger: logger)
    let anonymous = InvitationServiceImpl.anonymousMethods
    let router = RPCRouter(services: [
      health, TenantServiceImpl(environment: environment), InvitationServiceImpl(environment: environment),
      GuestServiceImpl(environment: environment),
    ])
    callMetrics = MetricsInterceptor(methods: router.methods)
    server = RPCServer(
      transports: [transport],
      router: router,
      interceptors: [
        callMetrics, AuthInterceptor(store: store, clock: clock, anonymousMethods: anonymous, providerKeys: environment.providerKeys),
        AuthenticatedConnectionInterceptor(),
      ]
    ) { error, method in
      logger.error("unexpected error in \(method): \(error)")
    }
  }

  /// Serves until a graceful shutdown has drained; `onListening` gets the bound port.
  ///
  /// The server runs as a `ServiceGroup` (swift-service-lifecycle): the
  /// outbox worker, the sweeper, the readiness watcher, then `services` (the
  /// web and metrics listeners, TLS reload, signal handling of `guestd`), then
  /// the RPC server. A graceful shutdown (one of `signals`, or
  /// `beginGracefulShutdown()`) stops them in reverse: the RPC server drains
  /// first, the outbox and the sweeper stop last; then the store closes.
  public func run(
    services: [ServerService] = [], signals: [UnixSignal] = [], onListening: @escaping @Sendable (Int) -> Void
  ) async throws {
    try await OperatorBootstrap.run(
      store: store, dataDir: settings.dataDir, configuredKey: settings.operatorKey, clock: environment.clock, logger: logger)
    var all = [
      // The drain already stopped it taking messages; its turn cancels a wait for the next one.
      ServerService("outbox", cancelledOnShutdown: { [outboxWorker] in await outboxWorker.run() }),
      ServerService("readiness", cancelledOnShutdown: { await self.watchReadiness() }),
    ]
    if settings.sweepInterval > 0 {
      all.append(ServerService("sweeper", cancelledOnShutdown: { [sweeper] in await sweeper.run() }))
    }
    all += services
    all.append(ServerService("rpc", onShutdown: { self.drain() }) {
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await self.server.serve() }
        do {
          let port = try await self.transport.listeningPort()
          await self.refreshReadiness()
          onListening(port)
        } catch where self.draining.load(ordering: .relaxed) {
          // Asked to shut down before it listened: it never will, which is no failure.
        }
        try await group.waitForAll()
      }
    })
    var configuration = ServiceGroupConfiguration(services: all, logger: logger)
    configuration.gracefulShutdownSignals = signals
    let group = ServiceGroup(configuration: configuration)
    self.group.withLock { $0 = group }
    defer {
      outboxWorker.stop()
      environment.auditHub.finishAll()
      store.close()
    }
    // Asked to shut down before the group ran: it starts in its graceful shutdown.
    if draining.load(ordering: .relaxed) { Task { await group.triggerGracefulShutdown() } }
    try await group.run()
  }

  /// Bytes held for clients now: headers of calls waiting for their request
  /// message and queued responses (bounded by `settings.memoryBudgetMiB`).
  public var bufferedBytes: Int { transport.bufferedBytes }
  /// Reloads the TLS certificate, key and client CAs (SIGHUP): new
  /// connections use them, established ones stay up.
  /// - Throws: when TLS is off or a file is invalid (the previous files stay in use).
  public func reloadTLS() throws {
    try transport.reloadTLS()
  }

  /// The port, once listening.
  public func listeningPort() async throws -> Int {
    try await transport.listeningPort()
  }

  /// Health goes NOT_SERVING, then every connection gets GOAWAY; in-flight
  /// calls have the drain timeout to finish before connections are closed;
  /// then the other services stop. A second call stops at once.
  public func beginGracefulShutdown() {
    guard drain() else {
      logger.warning("second signal: stopping now")
      server.stop()
      return
    }
    if let group = group.withLock({ $0 }) { Task { await group.triggerGracefulShutdown() } }
  }

  /// Starts the drain (once; `false` when it had begun): health NOT_SERVING,
  /// the outbox stops taking messages, audit streams end, GOAWAY, and the
  /// drain timeout starts.
  @discardableResult
  private func drain() -> Bool {
    guard !draining.exchange(true, ordering: .relaxed) else { return false }
    health.enterDraining()
    outboxWorker.stop()
    environment.auditHub.finishAll()
    server.beginGracefulShutdown()
    let timeout = settings.drainTimeout
    let server = self.server
    let logger = self.logger
    Task {
      try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
      logger.warning("drain timeout of \(timeout)s reached: closing remaining connections")
      server.stop()
    }
    return true
  }

  private func refreshReadiness() async {
    guard !draining.load(ordering: .relaxed) else { return }
    let writable = await store.checkWritable()
    let status: ServingStatus = writable ? .serving : .notServing
    for name in Self.serviceNames { health.setStatus(status, for: name) }
    health.setStatus(status, for: "")
  }

  private func watchReadiness() async {
    var tick = 0
    while !Task.isCancelled && !draining.load(ordering: .relaxed) {
      try? await Task.sleep(for: .seconds(1))
      tick += 1
      metrics.connections.record(transport.connectionCount)
      callMetrics.publishInFlight()
      if let depth = try? await store.read({ try $0.outboxDepth() }) { metrics.outboxDepth.record(depth) }
      metrics.writeBacklog.record(store.writeBacklog)
      if tick % 5 == 0 { await refreshReadiness() }
    }
  }

  private static func makeTransport(_ settings: ServerSettings) throws -> any EmailTransport {
    do {
      switch settings.email.transport {
      case .spool:
        return try SpoolTransport(directory: settings.email.spoolDir ?? settings.dataDir + "/outbox")
      case .smtp:
        guard let smtp = settings.email.smtp else { throw SettingsError("--email-transport smtp needs --smtp-host") }
        return try SMTPTransport(configuration: smtp)
      }
    } catch let error as EmailDeliveryError {
      throw SettingsError("email transport: \(error.reason)")
    }
  }

  /// Creates the data directory, or makes an existing one private: mode 0700
  /// whoever created it, since it holds the database, the hash key and the
  /// operator key.
  private static func makeDirectory(_ path: String) throws {
    guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
      throw SettingsError("cannot create data directory \(path): \(String(cString: strerror(errno)))")
    }
    guard chmod(path, 0o700) == 0 else {
      throw SettingsError("cannot make the data directory \(path) private (mode 0700): \(String(cString: strerror(errno)))")
    }
  }
}
