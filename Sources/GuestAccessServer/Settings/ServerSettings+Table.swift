import GuestAccessCore
import GuestAccessStorage
import Logging

/// The settings of `guestd`'s core, written once: `guestd`'s flags, its
/// `--help`, `ServerSettings` and the README's table all come from here (a
/// test holds the README to it). Email and TLS settings are in `EmailSettings`
/// and `TLSSettings`.
extension ServerSettings {
  public static let listen = ServerSetting.text(
    "listen", "GUESTD_LISTEN", default: "127.0.0.1:7700", accepts: "HOST:PORT",
    help: "Address to listen on, HOST:PORT (port 0 picks a free port).")
  public static let dataDirectory = ServerSetting.text(
    "data-dir", "GUESTD_DATA_DIR", default: "guestaccess-data", accepts: "a directory",
    help: "Directory holding the SQLite database and the operator credential.")
  public static let publicBaseURLSetting = ServerSetting.text(
    "public-base-url", "GUESTD_PUBLIC_BASE_URL", default: "http://localhost:7700",
    defaultText: "the web listener's http://HOST:PORT, else http://localhost:7700", accepts: "a URL",
    help: "Base URL used to build invitation redeem URLs.")
  public static let logLevelSetting = ServerSetting<Logger.Level>(
    "log-level", "GUESTD_LOG_LEVEL", default: .info, accepts: "one of trace, debug, info, notice, warning, error, critical",
    help: "trace, debug, info, notice, warning, error or critical.") { Logger.Level(rawValue: $0.lowercased()) }
  public static let drainTimeoutSetting = ServerSetting.seconds(
    "drain-timeout", "GUESTD_DRAIN_TIMEOUT", default: 10, range: 0...86_400,
    help: "Seconds in-flight calls get to finish on SIGTERM/SIGINT.")
  public static let maxConnectionsSetting = ServerSetting.integer(
    "max-connections", "GUESTD_MAX_CONNECTIONS", default: 10_000, range: 1...1_000_000,
    help: "Open client connections at most.")
  public static let maxConnectionsPerPeerSetting = ServerSetting.integer(
    "max-connections-per-peer", "GUESTD_MAX_CONNECTIONS_PER_PEER", default: 256, range: 1...1_000_000,
    help: "Open connections from one client IP address at most.")
  public static let maxRunningCallsPerPeerSetting = ServerSetting.integer(
    "max-running-calls-per-peer", "GUESTD_MAX_RUNNING_CALLS_PER_PEER", default: 128, range: 1...1_000_000,
    help: "Calls running at once for one client IP address, over all its connections.")
  public static let maxCallsBeforeAuthSetting = ServerSetting.integer(
    "max-calls-before-auth", "GUESTD_MAX_CALLS_BEFORE_AUTH", default: 16, range: 1...4096,
    help: "Calls in flight on a connection until one of its calls authenticated.")
  public static let memoryBudgetSetting = ServerSetting.integer(
    "memory-budget-mib", "GUESTD_MEMORY_BUDGET_MIB", default: 256, range: 16...1_048_576,
    help: "MiB of pending call headers and queued responses over all connections.")
  public static let sendTimeoutSetting = ServerSetting.seconds(
    "send-timeout", "GUESTD_SEND_TIMEOUT", default: 30, range: 1...3600,
    help: "Seconds a client may leave its queued responses unread before it is closed.")
  public static let sweepIntervalSetting = ServerSetting.seconds(
    "sweep-interval", "GUESTD_SWEEP_INTERVAL", default: 60, range: 0...31_536_000,
    help: "Seconds between background sweeps of the guest lifecycle (expiries, scheduled removals, purges); 0 turns the sweeper off.")
  public static let busyPollSetting = ServerSetting.integer(
    "busy-poll-us", "GUESTD_BUSY_POLL_US", default: 50, range: 0...10_000,
    help: "Microseconds an event loop polls for requests before it sleeps; 0 turns polling off.")
  public static let invitationRateLimitSetting = ServerSetting<Int32>(
    "invitation-rate-limit", "GUESTD_INVITATION_RATE_LIMIT", default: 1000, accepts: "an integer from 1 to 1000000",
    help: "Invitations per rate window for tenants that set no limit of their own.") { Int32($0).flatMap { (1...1_000_000).contains($0) ? $0 : nil } }
  public static let hashKeyFileSetting = ServerSetting.text(
    "hash-key-file", "GUESTD_HASH_KEY_FILE", default: nil, defaultText: "hash.key in the data directory, created on first start",
    accepts: "a file", help: "File holding the key of the ticket and passcode hashes.")
  public static let databaseSetting = ServerSetting<DatabaseLocation>(
    "database", "GUESTD_DATABASE_URL", default: nil, defaultText: "guestaccess.sqlite in the data directory",
    accepts: "sqlite:PATH or a PostgreSQL URI postgres://USER@HOST:PORT/DB?…",
    help: "The database: sqlite:PATH or a PostgreSQL URI (passed to libpq as is; several guestd may share one).",
    shown: DatabaseLocation.redactingPassword) { try? DatabaseLocation($0) }
  public static let databaseConnectionsSetting = ServerSetting.integer(
    "database-connections", "GUESTD_DATABASE_CONNECTIONS", default: 8, range: 1...1000,
    help: "Sessions a PostgreSQL database gets for transactions, besides one listener and one lease session; unused with SQLite.")
  public static let proxyProtocolFromSetting = ServerSetting<[AddressRange]>(
    "proxy-protocol-from", "GUESTD_PROXY_PROTOCOL_FROM", default: [], defaultText: "none",
    accepts: "comma-separated addresses or CIDR blocks, e.g. 10.0.0.5,10.1.0.0/16",
    help: "Load balancers that send a PROXY protocol v2 header: connections from these addresses (RPC and web ports) must start with one, and its client address is used for every per-address limit.") {
    AddressRange.list($0).flatMap { $0.isEmpty ? nil : $0 }
  }

  /// Every core setting, in the order of `--help` and the README's table.
  public static let table: [any SettingDescription] = [
    listen, dataDirectory, publicBaseURLSetting, logLevelSetting, drainTimeoutSetting, maxConnectionsSetting,
    maxConnectionsPerPeerSetting, maxRunningCallsPerPeerSetting, maxCallsBeforeAuthSetting, memoryBudgetSetting,
    sendTimeoutSetting, sweepIntervalSetting, busyPollSetting, invitationRateLimitSetting, hashKeyFileSetting,
    databaseSetting, databaseConnectionsSetting, proxyProtocolFromSetting,
  ]
}
