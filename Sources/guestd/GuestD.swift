import ArgumentParser
import Dispatch
import Foundation
import GuestAccessAdmin
import GuestAccessServer
import GuestAccessTransport
import GuestAccessWeb
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `guestd`: the GuestAccess server. Thin: it reads configuration, picks the
/// log backend, builds the server and turns SIGTERM/SIGINT into a graceful drain.
@main
struct GuestD: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guestd",
    abstract: "The GuestAccess server: B2B guest collaboration over a binary RPC protocol.",
    discussion: """
      Every option can also be set through the environment: GUESTD_LISTEN, GUESTD_DATA_DIR,
      GUESTD_PUBLIC_BASE_URL, GUESTD_LOG_LEVEL, GUESTD_DRAIN_TIMEOUT, GUESTD_MAX_CONNECTIONS, GUESTD_HASH_KEY_FILE,
      GUESTD_MAX_CONNECTIONS_PER_PEER, GUESTD_MAX_RUNNING_CALLS_PER_PEER, GUESTD_MAX_CALLS_BEFORE_AUTH, GUESTD_MEMORY_BUDGET_MIB, GUESTD_SEND_TIMEOUT,
      GUESTD_EMAIL_TRANSPORT, GUESTD_SPOOL_DIR, GUESTD_EMAIL_FROM, GUESTD_EMAIL_MAX_ATTEMPTS,
      GUESTD_EMAIL_RETRY_DELAY, GUESTD_SMTP_HOST, GUESTD_SMTP_PORT, GUESTD_SMTP_USERNAME,
      GUESTD_SMTP_PASSWORD, GUESTD_SMTP_STARTTLS, GUESTD_SMTP_CA_FILE, GUESTD_SMTP_TIMEOUT,
      GUESTD_TLS_CERT, GUESTD_TLS_KEY, GUESTD_TLS_CLIENT_CA, GUESTD_TLS_RELOAD_INTERVAL,
      GUESTD_ALLOW_PLAINTEXT (1 or true), GUESTD_WEB_LISTEN, GUESTD_METRICS_LISTEN,
      GUESTD_METRICS_ALLOW_REMOTE (1). Flags win over the environment.
      SIGHUP reloads the TLS certificate, key and client CAs.
      """,
    version: "0.1.0")

  @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free port).")
  var listen: String?

  @Option(name: .customLong("data-dir"), help: "Directory holding the SQLite database and the operator credential.")
  var dataDir: String?

  @Option(name: .customLong("public-base-url"), help: "Base URL used to build invitation redeem URLs (default: the web listener's http://HOST:PORT, else http://localhost:7700).")
  var publicBaseURL: String?

  @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
  var logLevel: String?

  @Option(name: .customLong("drain-timeout"), help: "Seconds in-flight calls get to finish on SIGTERM/SIGINT.")
  var drainTimeout: Double?

  @Option(name: .customLong("max-connections"), help: "Open client connections at most (default 10000).")
  var maxConnections: Int?

  @Option(name: .customLong("max-connections-per-peer"), help: "Open connections from one client IP address at most (default 256).")
  var maxConnectionsPerPeer: Int?

  @Option(name: .customLong("max-running-calls-per-peer"), help: "Calls running at once for one client IP address, over all its connections (default 128).")
  var maxRunningCallsPerPeer: Int?

  @Option(name: .customLong("max-calls-before-auth"), help: "Calls in flight on a connection until one of its calls authenticated (default 16).")
  var maxCallsBeforeAuth: Int?

  @Option(name: .customLong("memory-budget-mib"), help: "MiB of pending call headers and queued responses over all connections (default 256).")
  var memoryBudgetMiB: Int?

  @Option(name: .customLong("send-timeout"), help: "Seconds a client may leave its queued responses unread before it is closed (default 30).")
  var sendTimeout: Double?

  @Option(name: .customLong("sweep-interval"), help: "Seconds between background sweeps of the guest lifecycle (expiries, scheduled removals, purges); 0 turns the sweeper off (default 60).")
  var sweepInterval: Double?

  @Option(name: .customLong("busy-poll-us"), help: "Microseconds an event loop polls for requests before it sleeps; 0 turns polling off (default 50).")
  var busyPollMicros: Int?

  @Option(name: .customLong("metrics-listen"), help: "Serve Prometheus metrics at http://HOST:PORT/metrics, with /healthz and /readyz (off by default; unauthenticated, so a loopback HOST unless --metrics-allow-remote).")
  var metricsListen: String?

  @Flag(name: .customLong("metrics-allow-remote"), help: "Allow --metrics-listen on a non-loopback address (the endpoint has no authentication: put it behind a firewall or proxy).")
  var metricsAllowRemote = false

  @Option(name: .customLong("web-listen"), help: "Serve the guests' redemption pages (and /healthz, /readyz) at http://HOST:PORT (off by default).")
  var webListen: String?

  @Option(name: .customLong("operator-key-file"), help: "File holding the operator credential to accept (else one is created in the data directory on first start).")
  var operatorKeyFile: String?

  @Option(name: .customLong("hash-key-file"), help: "File holding the key of the ticket and passcode hashes (else hash.key in the data directory, created on first start).")
  var hashKeyFile: String?

  @Flag(name: .customLong("oidc-allow-http-loopback"), help: "Allow identity providers whose issuer is plain http on a loopback address (development and tests only).")
  var oidcAllowHTTPLoopback = false

  @OptionGroup var email: EmailOptions

  @OptionGroup var tls: TLSFlags

  mutating func run() async throws {
    let environment = ServerSettings.processEnvironment()
    // The web listener binds first: with port 0 its port is known only then,
    // and the redeem links default to it.
    let webAddress = webListen ?? environment["GUESTD_WEB_LISTEN"]
    let metricsAddress = metricsListen ?? environment["GUESTD_METRICS_LISTEN"]
    if let metricsAddress {
      let host = metricsAddress.lastIndex(of: ":").map { String(metricsAddress[..<$0]) } ?? metricsAddress
      let allowRemote = metricsAllowRemote || environment["GUESTD_METRICS_ALLOW_REMOTE"] == "1"
      guard allowRemote || Self.isLoopback(host) else {
        throw ValidationError("--metrics-listen \(metricsAddress) is not a loopback address and the metrics endpoint has no authentication; "
                              + "use 127.0.0.1 or ::1, or pass --metrics-allow-remote (GUESTD_METRICS_ALLOW_REMOTE=1) to expose it")
      }
    }
    // Both HTTP listeners share event loops of their own (none without them).
    let httpGroup = webAddress != nil || metricsAddress != nil
      ? EventLoopGroup(count: EventLoopGroup.coreCount, name: "ga-http", busyPoll: .zero) : nil
    let web = try webAddress.map { try Self.bind($0, group: httpGroup!) }
    var baseURL = publicBaseURL
    if baseURL == nil, environment["GUESTD_PUBLIC_BASE_URL"] == nil, let web { baseURL = web.url }
    var configured = try ServerSettings(
      listen: listen, dataDir: dataDir, publicBaseURL: baseURL, logLevel: logLevel, drainTimeout: drainTimeout,
      maxConnections: maxConnections, operatorKey: try operatorKeyFile.map(Self.readKey), busyPollMicros: busyPollMicros,
      sweepInterval: sweepInterval, maxConnectionsPerPeer: maxConnectionsPerPeer, maxRunningCallsPerPeer: maxRunningCallsPerPeer,
      maxCallsBeforeAuthentication: maxCallsBeforeAuth,
      memoryBudgetMiB: memoryBudgetMiB, sendTimeout: sendTimeout, environment: environment)
    if let hashKeyFile { configured.hashKeyFile = hashKeyFile }
    configured.oidcAllowHTTPLoopback = oidcAllowHTTPLoopback || environment["GUESTD_OIDC_ALLOW_HTTP_LOOPBACK"] == "1"
    configured.email = try email.settings(publicBaseURL: configured.publicBaseURL, environment: environment)
    configured.tls = try tls.settings(host: configured.host, environment: environment)
    let settings = configured
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = settings.logLevel
      return handler
    }
    let logger = Logger(label: "guestd")
    let registry = MetricsBackend.prometheus()
    let server = try GuestAccessServerApp(settings: settings, logger: logger)
    var admin: HTTPServer?
    if let metricsAddress {
      let started = try Self.bind(metricsAddress, group: httpGroup!)
      started.start(handler: WebApp(health: server.health, metrics: { MetricsBackend.exposition(of: registry) }))
      print("guestd metrics on \(started.url)/metrics")
      admin = started
    }
    if let web {
      web.start(handler: WebApp(app: server))
      print("guestd web pages on \(web.url) (redeem links: \(settings.publicBaseURL)/redeem)")
    }
    defer {
      web?.stop()
      admin?.stop()
    }
    let signals = SignalWatcher(signals: [SIGTERM, SIGINT]) { signal in
      logger.notice("received signal \(signal): draining")
      server.beginGracefulShutdown()
    }
    defer { signals.cancel() }
    if let tls = settings.tls.server {
      logger.notice("RPC port serves TLS only", metadata: [
        "certificate": "\(tls.certificateFile)", "client-certificates": "\(tls.clientCAFile == nil ? "not requested" : "required")"])
    } else if settings.tls.isPlaintextExposed(host: settings.host) {
      logger.warning("serving plaintext on \(settings.host) (--allow-plaintext): credentials cross the network in clear unless a proxy in front terminates TLS")
    }
    let reloads = SignalWatcher(signals: [SIGHUP]) { _ in
      guard settings.tls.server != nil else {
        logger.notice("SIGHUP ignored: TLS is off")
        return
      }
      do {
        try server.reloadTLS()
      } catch {
        logger.error("SIGHUP: TLS reload failed: \(error)")
      }
    }
    defer { reloads.cancel() }
    try await server.run { port in
      print("guestd listening on \(settings.host):\(port)")
      fflush(nil)
    }
    logger.notice("guestd stopped")
  }

  /// Binds an HTTP listener at `HOST:PORT`.
  static func bind(_ address: String, group: EventLoopGroup) throws -> HTTPServer {
    do {
      return try HTTPServer(configuration: HTTPServerConfiguration(address: address), group: group, logger: Logger(label: "guestd.web"))
    } catch let error as HTTPServerError {
      throw ValidationError(error.description)
    }
  }
}

extension GuestD {
  /// Whether `host` names the loopback interface only.
  static func isLoopback(_ host: String) -> Bool {
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
  }

  static func readKey(_ path: String) throws -> String {
    guard let file = fopen(path, "r") else { throw ValidationError("cannot read \(path)") }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 512)
    guard fgets(&buffer, 512, file) != nil else { throw ValidationError("\(path) is empty") }
    return String(cString: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// Calls a handler on the first of some signals (Dispatch signal sources).
final class SignalWatcher: @unchecked Sendable {
  private let sources: [any DispatchSourceSignal]

  init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
    sources = signals.map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { handler(number) }
      source.resume()
      return source
    }
  }

  func cancel() {
    for source in sources { source.cancel() }
  }
}
