import ArgumentParser
import Foundation
import GuestAccessAdmin
import GuestAccessCore
import GuestAccessServer
import GuestAccessTLS
import GuestAccessTransport
import GuestAccessWeb
import Logging
import ServiceLifecycle
import UnixSignals

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
    discussion: "Every option can also be set through the environment: "
      + (ServerSettings.table.map(\.variable) + [
        "GUESTD_OPERATOR_KEY", "GUESTD_EMAIL_TRANSPORT", "GUESTD_SPOOL_DIR", "GUESTD_EMAIL_FROM", "GUESTD_EMAIL_MAX_ATTEMPTS",
        "GUESTD_EMAIL_RETRY_DELAY", "GUESTD_SMTP_HOST", "GUESTD_SMTP_PORT", "GUESTD_SMTP_USERNAME", "GUESTD_SMTP_PASSWORD",
        "GUESTD_SMTP_STARTTLS", "GUESTD_SMTP_CA_FILE", "GUESTD_SMTP_TIMEOUT", "GUESTD_TLS_CERT", "GUESTD_TLS_KEY",
        "GUESTD_TLS_CLIENT_CA", "GUESTD_TLS_RELOAD_INTERVAL", "GUESTD_ALLOW_PLAINTEXT (1 or true)", "GUESTD_WEB_LISTEN",
        "GUESTD_METRICS_LISTEN", "GUESTD_METRICS_ALLOW_REMOTE (1)", "GUESTD_OIDC_ALLOW_HTTP_LOOPBACK (1)",
      ]).joined(separator: ", ")
      + ". Flags win over the environment; a value that does not parse is an error, never a silent default. "
      + "SIGHUP reloads the TLS certificate, key and client CAs.",
    version: "0.1.0")

  @Option(name: .customLong(ServerSettings.listen.flag), help: Self.help(ServerSettings.listen))
  var listen: String?

  @Option(name: .customLong(ServerSettings.dataDirectory.flag), help: Self.help(ServerSettings.dataDirectory))
  var dataDir: String?

  @Option(name: .customLong(ServerSettings.publicBaseURLSetting.flag), help: Self.help(ServerSettings.publicBaseURLSetting))
  var publicBaseURL: String?

  @Option(name: .customLong(ServerSettings.logLevelSetting.flag), help: Self.help(ServerSettings.logLevelSetting))
  var logLevel: String?

  @Option(name: .customLong(ServerSettings.drainTimeoutSetting.flag), help: Self.help(ServerSettings.drainTimeoutSetting))
  var drainTimeout: String?

  @Option(name: .customLong(ServerSettings.maxConnectionsSetting.flag), help: Self.help(ServerSettings.maxConnectionsSetting))
  var maxConnections: String?

  @Option(name: .customLong(ServerSettings.maxConnectionsPerPeerSetting.flag), help: Self.help(ServerSettings.maxConnectionsPerPeerSetting))
  var maxConnectionsPerPeer: String?

  @Option(name: .customLong(ServerSettings.maxRunningCallsPerPeerSetting.flag), help: Self.help(ServerSettings.maxRunningCallsPerPeerSetting))
  var maxRunningCallsPerPeer: String?

  @Option(name: .customLong(ServerSettings.maxCallsBeforeAuthSetting.flag), help: Self.help(ServerSettings.maxCallsBeforeAuthSetting))
  var maxCallsBeforeAuth: String?

  @Option(name: .customLong(ServerSettings.memoryBudgetSetting.flag), help: Self.help(ServerSettings.memoryBudgetSetting))
  var memoryBudgetMiB: String?

  @Option(name: .customLong(ServerSettings.sendTimeoutSetting.flag), help: Self.help(ServerSettings.sendTimeoutSetting))
  var sendTimeout: String?

  @Option(name: .customLong(ServerSettings.sweepIntervalSetting.flag), help: Self.help(ServerSettings.sweepIntervalSetting))
  var sweepInterval: String?

  @Option(name: .customLong(ServerSettings.busyPollSetting.flag), help: Self.help(ServerSettings.busyPollSetting))
  var busyPollMicros: String?

  @Option(name: .customLong("metrics-listen"), help: "Serve Prometheus metrics at http://HOST:PORT/metrics, with /healthz and /readyz (off by default; unauthenticated, so a loopback HOST unless --metrics-allow-remote).")
  var metricsListen: String?

  @Flag(name: .customLong("metrics-allow-remote"), help: "Allow --metrics-listen on a non-loopback address (the endpoint has no authentication: put it behind a firewall or proxy).")
  var metricsAllowRemote = false

  @Option(name: .customLong("web-listen"), help: "Serve the guests' redemption pages (and /healthz, /readyz) at http://HOST:PORT (off by default).")
  var webListen: String?

  @Option(name: .customLong("operator-key-file"), help: "File holding the operator credential to accept (else one is created in the data directory on first start).")
  var operatorKeyFile: String?

  @Option(name: .customLong(ServerSettings.hashKeyFileSetting.flag), help: Self.help(ServerSettings.hashKeyFileSetting))
  var hashKeyFile: String?

  @Option(name: .customLong(ServerSettings.invitationRateLimitSetting.flag), help: Self.help(ServerSettings.invitationRateLimitSetting))
  var invitationRateLimit: String?

  @Option(name: .customLong(ServerSettings.databaseSetting.flag), help: Self.help(ServerSettings.databaseSetting))
  var database: String?

  @Option(name: .customLong(ServerSettings.databaseConnectionsSetting.flag), help: Self.help(ServerSettings.databaseConnectionsSetting))
  var databaseConnections: String?

  @Option(name: .customLong(ServerSettings.proxyProtocolFromSetting.flag), help: Self.help(ServerSettings.proxyProtocolFromSetting))
  var proxyProtocolFrom: String?
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
    var flags: [String: String] = [:]
    let given: [(any SettingDescription, String?)] = [
      (ServerSettings.listen, listen), (ServerSettings.dataDirectory, dataDir), (ServerSettings.publicBaseURLSetting, publicBaseURL),
      (ServerSettings.logLevelSetting, logLevel), (ServerSettings.drainTimeoutSetting, drainTimeout),
      (ServerSettings.maxConnectionsSetting, maxConnections), (ServerSettings.maxConnectionsPerPeerSetting, maxConnectionsPerPeer),
      (ServerSettings.maxRunningCallsPerPeerSetting, maxRunningCallsPerPeer), (ServerSettings.maxCallsBeforeAuthSetting, maxCallsBeforeAuth),
      (ServerSettings.memoryBudgetSetting, memoryBudgetMiB), (ServerSettings.sendTimeoutSetting, sendTimeout),
      (ServerSettings.sweepIntervalSetting, sweepInterval), (ServerSettings.busyPollSetting, busyPollMicros),
      (ServerSettings.invitationRateLimitSetting, invitationRateLimit), (ServerSettings.hashKeyFileSetting, hashKeyFile),
      (ServerSettings.databaseSetting, database), (ServerSettings.databaseConnectionsSetting, databaseConnections),
      (ServerSettings.proxyProtocolFromSetting, proxyProtocolFrom),
    ]
    for (setting, value) in given { if let value { flags[setting.flag] = value } }
    var configured = try ServerSettings(flags: flags, operatorKey: try operatorKeyFile.map(Self.readKey), environment: environment)
    configured.tls = try tls.settings(host: configured.host, environment: environment)
    // Both HTTP listeners share event loops of their own (none without them), and the
    // RPC port's TLS settings: the web port without client certificates (a guest's
    // browser has none), /metrics with them when --tls-client-ca is given.
    let httpGroup = webAddress != nil || metricsAddress != nil
      ? EventLoopGroup(count: EventLoopGroup.coreCount, name: "ga-http", busyPoll: .zero) : nil
    let tlsSettings = configured.tls
    let webTLS = tlsSettings.server.map { TLSServerOptions(certificateFile: $0.certificateFile, keyFile: $0.keyFile) }
    let web = try webAddress.map {
      try Self.bind($0, group: httpGroup!, tls: webTLS, settings: tlsSettings, proxyProtocolSources: configured.proxyProtocolSources)
    }
    if publicBaseURL == nil, environment["GUESTD_PUBLIC_BASE_URL"] == nil, let web { configured.publicBaseURL = web.url }
    configured.oidcAllowHTTPLoopback = oidcAllowHTTPLoopback || environment["GUESTD_OIDC_ALLOW_HTTP_LOOPBACK"] == "1"
    configured.email = try email.settings(publicBaseURL: configured.publicBaseURL, environment: environment)
    let settings = configured
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = settings.logLevel
      return handler
    }
    let logger = Logger(label: "guestd")
    let registry = MetricsBackend.prometheus()
    let server = try GuestAccessServerApp(settings: settings, logger: logger)
    var services = [
      Self.signalService(server: server, logger: logger),
    ]
    let admin = try metricsAddress.map { address in
      let started = try Self.bind(address, group: httpGroup!, tls: settings.tls.server, settings: settings.tls)
      services.append(Self.httpService("metrics", started, handler: WebApp(health: server.health, metrics: { MetricsBackend.exposition(of: registry) })))
      print("guestd metrics on \(started.url)/metrics")
      return started
    }
    if let web {
      services.append(Self.httpService("web", web, handler: WebApp(app: server)))
      print("guestd web pages on \(web.url) (redeem links: \(settings.publicBaseURL)/redeem)")
    }
    services.append(Self.tlsReloadService(enabled: settings.tls.server != nil, logger: logger) {
      try server.reloadTLS()
      try web?.reloadTLS()
      try admin?.reloadTLS()
    })
    if let tls = settings.tls.server {
      logger.notice("RPC port serves TLS only", metadata: [
        "certificate": "\(tls.certificateFile)", "client-certificates": "\(tls.clientCAFile == nil ? "not requested" : "required")"])
    } else if settings.tls.isPlaintextExposed(host: settings.host) {
      logger.warning("serving plaintext on \(settings.host) (--allow-plaintext): credentials cross the network in clear unless a proxy in front terminates TLS")
    }
    try await server.run(services: services, signals: [.sigterm, .sigint]) { port in
      print("guestd listening on \(settings.host):\(port)")
      fflush(nil)
    }
    logger.notice("guestd stopped")
  }

  /// Binds an HTTP listener at `HOST:PORT`, HTTPS with `tls` (reloaded as `settings` says).
  static func bind(
    _ address: String, group: EventLoopGroup, tls: TLSServerOptions?, settings: TLSSettings, proxyProtocolSources: [AddressRange] = []
  ) throws -> HTTPServer {
    do {
      var configuration = try HTTPServerConfiguration(address: address)
      configuration.proxyProtocolSources = proxyProtocolSources
      return try HTTPServer(
        configuration: configuration, group: group, logger: Logger(label: "guestd.web"), tls: tls,
        tlsReloadInterval: settings.reloadInterval > 0 ? .milliseconds(Int64(settings.reloadInterval * 1000)) : nil)
    } catch let error as HTTPServerError {
      throw ValidationError(error.description)
    }
  }
}

extension GuestD {
  /// The help of a setting of the table: its text, default and variable.
  static func help(_ setting: any SettingDescription) -> ArgumentHelp {
    ArgumentHelp("\(setting.help) (default \(setting.defaultText); \(setting.variable))")
  }

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

extension GuestD {
  /// An HTTP listener as a service: serves from the start, stops on its turn in the shutdown.
  static func httpService(_ name: String, _ listener: HTTPServer, handler: any HTTPHandler) -> ServerService {
    ServerService(name, onShutdown: {}) {
      listener.start(handler: handler)
      defer { listener.stop() }
      try? await gracefulShutdown()
    }
  }

  /// Logs the first SIGTERM/SIGINT (the service group begins the drain) and
  /// stops at once on a second one.
  static func signalService(server: GuestAccessServerApp, logger: Logger) -> ServerService {
    ServerService("signals", cancelledOnShutdown: {
      var seen = 0
      for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
        seen += 1
        if seen == 1 {
          logger.notice("received signal \(signal): draining")
        } else {
          server.beginGracefulShutdown()
        }
      }
    })
  }

  /// Reloads the TLS certificates, keys and client CAs of every listener on SIGHUP.
  static func tlsReloadService(enabled: Bool, logger: Logger, reload: @escaping @Sendable () throws -> Void) -> ServerService {
    ServerService("tls-reload", cancelledOnShutdown: {
      for await _ in await UnixSignalsSequence(trapping: .sighup) {
        guard enabled else {
          logger.notice("SIGHUP ignored: TLS is off")
          continue
        }
        do {
          try reload()
        } catch {
          logger.error("SIGHUP: TLS reload failed: \(error)")
        }
      }
    })
  }
}
