import GuestAccessCore
import GuestAccessStorage
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The configuration of a `guestd`: flags win over environment variables,
/// which win over defaults.
public struct ServerSettings: Sendable {
  /// Address to bind.
  public var host: String
  /// Port to bind (0 = any free port).
  public var port: Int
  /// Directory of the database and the operator credential file.
  public var dataDir: String
  /// Base URL of redeem links.
  public var publicBaseURL: String
  /// Log level.
  public var logLevel: Logger.Level
  /// Seconds in-flight calls get on shutdown.
  public var drainTimeout: Double
  /// Open connections at most. `--max-connections` or `GUESTD_MAX_CONNECTIONS`, default 10000.
  public var maxConnections: Int
  /// Open connections from one client address at most.
  /// `--max-connections-per-peer` or `GUESTD_MAX_CONNECTIONS_PER_PEER`, default 256.
  public var maxConnectionsPerPeer: Int
  /// Calls running at once for one client address, over all its connections.
  /// `--max-running-calls-per-peer` or `GUESTD_MAX_RUNNING_CALLS_PER_PEER`, default 128.
  public var maxRunningCallsPerPeer: Int
  /// Calls in flight on a connection before one of its calls authenticated.
  /// `--max-calls-before-auth` or `GUESTD_MAX_CALLS_BEFORE_AUTH`, default 16.
  public var maxCallsBeforeAuthentication: Int
  /// MiB of pending call headers and queued responses over every connection.
  /// `--memory-budget-mib` or `GUESTD_MEMORY_BUDGET_MIB`, default 256.
  public var memoryBudgetMiB: Int
  /// Seconds a client may take none of its queued responses before it is
  /// closed. `--send-timeout` or `GUESTD_SEND_TIMEOUT`, default 30.
  public var sendTimeout: Double
  /// Microseconds an event loop polls for events before it sleeps (0: never
  /// polls). Environment `GUESTD_BUSY_POLL_US`, default 50.
  public var busyPollMicros: Int
  /// The operator credential, when configured (else one is created on first start): at least 43
  /// base64url characters; a configured key revokes the bootstrap credential and removes `operator.key`.
  public var operatorKey: String?
  /// The file holding the key of the ticket and passcode hashes; nil =
  /// `hash.key` in the data directory, created on first start.
  /// `--hash-key-file` or environment `GUESTD_HASH_KEY_FILE`.
  public var hashKeyFile: String?
  /// Invitations per rate window for tenants that set no limit.
  public var defaultInvitationRateLimit: Int32
  /// Seconds between background sweeps of the guest lifecycle (expired
  /// invitations and guests, scheduled removals, purges); 0 turns the
  /// background sweeper off. `--sweep-interval` or environment
  /// `GUESTD_SWEEP_INTERVAL`, default 60.
  public var sweepInterval: Double

  /// The database: nil = `guestaccess.sqlite` in the data directory.
  /// `--database` or environment `GUESTD_DATABASE_URL`: `sqlite:PATH` or a
  /// PostgreSQL URI (`postgres://USER@HOST:PORT/DB?sslmode=…`), handed to libpq as is.
  public var database: DatabaseLocation?
  /// Sessions a PostgreSQL store opens for transactions (besides its listener
  /// and its lease session). `--database-connections` or
  /// `GUESTD_DATABASE_CONNECTIONS`, default 8; unused with SQLite.
  public var databaseConnections = 8
  /// Whether identity providers may have a plain-http issuer on a loopback
  /// address (a provider on this machine: tests and development only).
  /// `--oidc-allow-http-loopback` or `GUESTD_OIDC_ALLOW_HTTP_LOOPBACK=1`.
  public var oidcAllowHTTPLoopback = false
  /// Load balancers trusted to send a PROXY protocol v2 header (RPC and web
  /// ports). `--proxy-protocol-from` or `GUESTD_PROXY_PROTOCOL_FROM`; none by default.
  public var proxyProtocolSources: [AddressRange] = []

  /// Email delivery: transport, sender, retries (`EmailSettings`).
  public var email: EmailSettings
  /// TLS on the RPC port (`TLSSettings`); plaintext by default.
  public var tls = TLSSettings()

  /// Reads settings from typed values (tests, embedding); each goes through
  /// the same check as a flag.
  public init(
    listen: String?, dataDir: String?, publicBaseURL: String?, logLevel: String?, drainTimeout: Double?,
    maxConnections: Int?, operatorKey: String? = nil, busyPollMicros: Int? = nil, sweepInterval: Double? = nil,
    maxConnectionsPerPeer: Int? = nil, maxRunningCallsPerPeer: Int? = nil, maxCallsBeforeAuthentication: Int? = nil, memoryBudgetMiB: Int? = nil,
    sendTimeout: Double? = nil, environment: [String: String]
  ) throws {
    let typed: [(any SettingDescription, (any Sendable)?)] = [
      (Self.listen, listen), (Self.dataDirectory, dataDir), (Self.publicBaseURLSetting, publicBaseURL), (Self.logLevelSetting, logLevel),
      (Self.drainTimeoutSetting, drainTimeout), (Self.maxConnectionsSetting, maxConnections), (Self.busyPollSetting, busyPollMicros),
      (Self.sweepIntervalSetting, sweepInterval), (Self.maxConnectionsPerPeerSetting, maxConnectionsPerPeer),
      (Self.maxRunningCallsPerPeerSetting, maxRunningCallsPerPeer), (Self.maxCallsBeforeAuthSetting, maxCallsBeforeAuthentication),
      (Self.memoryBudgetSetting, memoryBudgetMiB), (Self.sendTimeoutSetting, sendTimeout),
    ]
    var flags: [String: String] = [:]
    for (setting, value) in typed { if let value { flags[setting.flag] = "\(value)" } }
    try self.init(flags: flags, operatorKey: operatorKey, environment: environment)
  }

  /// Reads settings from raw flag values keyed by flag name (without dashes),
  /// else the environment, else the defaults (`ServerSettings.table`).
  /// - Throws: `SettingsError` naming the flag and the variable of a bad value.
  public init(flags: [String: String], operatorKey: String? = nil, environment: [String: String]) throws {
    func value<V>(_ setting: ServerSetting<V>) throws -> V { try setting.required(flag: flags[setting.flag], environment: environment) }
    self.operatorKey = operatorKey ?? environment["GUESTD_OPERATOR_KEY"]
    databaseConnections = try value(Self.databaseConnectionsSetting)
    proxyProtocolSources = try value(Self.proxyProtocolFromSetting)
    database = try Self.databaseSetting.value(flag: flags[Self.databaseSetting.flag], environment: environment)
    if let key = self.operatorKey { try OperatorBootstrap.checkStrong(key) }
    hashKeyFile = try Self.hashKeyFileSetting.value(flag: flags[Self.hashKeyFileSetting.flag], environment: environment)
    defaultInvitationRateLimit = try value(Self.invitationRateLimitSetting)
    sweepInterval = try value(Self.sweepIntervalSetting)
    let listen = try value(Self.listen)
    guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
      throw SettingsError("--listen (GUESTD_LISTEN) must be HOST:PORT; got \"\(listen)\"")
    }
    var host = String(listen[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    if host == "localhost" { host = "127.0.0.1" }
    self.host = host
    self.port = port
    dataDir = try value(Self.dataDirectory)
    publicBaseURL = try value(Self.publicBaseURLSetting)
    logLevel = try value(Self.logLevelSetting)
    drainTimeout = try value(Self.drainTimeoutSetting)
    maxConnections = try value(Self.maxConnectionsSetting)
    maxConnectionsPerPeer = try value(Self.maxConnectionsPerPeerSetting)
    maxRunningCallsPerPeer = try value(Self.maxRunningCallsPerPeerSetting)
    maxCallsBeforeAuthentication = try value(Self.maxCallsBeforeAuthSetting)
    memoryBudgetMiB = try value(Self.memoryBudgetSetting)
    sendTimeout = try value(Self.sendTimeoutSetting)
    busyPollMicros = try value(Self.busyPollSetting)
    email = try EmailSettings(publicBaseURL: publicBaseURL, environment: environment)
  }

  /// The process environment as a dictionary.
  public static func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
      let text = String(cString: entry)
      if let equals = text.firstIndex(of: "=") {
        result[String(text[..<equals])] = String(text[text.index(after: equals)...])
      }
      pointer += 1
    }
    return result
  }
}

/// A configuration error, printed as is.
public struct SettingsError: Error, CustomStringConvertible {
  /// What is wrong.
  public var description: String
  /// Creates an error.
  public init(_ description: String) { self.description = description }
}
