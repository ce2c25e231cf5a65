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

  /// Whether identity providers may have a plain-http issuer on a loopback
  /// address (a provider on this machine: tests and development only).
  /// `--oidc-allow-http-loopback` or `GUESTD_OIDC_ALLOW_HTTP_LOOPBACK=1`.
  public var oidcAllowHTTPLoopback = false

  /// Email delivery: transport, sender, retries (`EmailSettings`).
  public var email: EmailSettings
  /// TLS on the RPC port (`TLSSettings`); plaintext by default.
  public var tls = TLSSettings()

  /// Reads settings; throws a message naming the bad flag or variable.
  public init(
    listen: String?, dataDir: String?, publicBaseURL: String?, logLevel: String?, drainTimeout: Double?,
    maxConnections: Int?, operatorKey: String? = nil, busyPollMicros: Int? = nil, sweepInterval: Double? = nil,
    maxConnectionsPerPeer: Int? = nil, maxRunningCallsPerPeer: Int? = nil, maxCallsBeforeAuthentication: Int? = nil, memoryBudgetMiB: Int? = nil,
    sendTimeout: Double? = nil, environment: [String: String]
  ) throws {
    self.operatorKey = operatorKey ?? environment["GUESTD_OPERATOR_KEY"]
    self.hashKeyFile = environment["GUESTD_HASH_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    if let key = self.operatorKey { try OperatorBootstrap.checkStrong(key) }
    self.defaultInvitationRateLimit = environment["GUESTD_INVITATION_RATE_LIMIT"].flatMap(Int32.init) ?? 1000
    let sweep = sweepInterval ?? environment["GUESTD_SWEEP_INTERVAL"].map { Double($0) } ?? 60
    guard let sweep, (0...31_536_000).contains(sweep) else {
      throw SettingsError("--sweep-interval (GUESTD_SWEEP_INTERVAL) must be a number of seconds from 0 to 31536000 (a year)")
    }
    self.sweepInterval = sweep
    let listen = listen ?? environment["GUESTD_LISTEN"] ?? "127.0.0.1:7700"
    guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
      throw SettingsError("--listen must be HOST:PORT, got \"\(listen)\"")
    }
    var host = String(listen[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    if host == "localhost" { host = "127.0.0.1" }
    self.host = host
    self.port = port
    self.dataDir = dataDir ?? environment["GUESTD_DATA_DIR"] ?? "guestaccess-data"
    self.publicBaseURL = publicBaseURL ?? environment["GUESTD_PUBLIC_BASE_URL"] ?? "http://localhost:7700"
    let level = logLevel ?? environment["GUESTD_LOG_LEVEL"] ?? "info"
    guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
      throw SettingsError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got \"\(level)\"")
    }
    self.logLevel = parsed
    let drain = drainTimeout ?? environment["GUESTD_DRAIN_TIMEOUT"].flatMap(Double.init) ?? 10
    guard drain >= 0 else { throw SettingsError("--drain-timeout must not be negative") }
    self.drainTimeout = drain
    self.maxConnections = try Self.integer(
      maxConnections, flag: "--max-connections", variable: "GUESTD_MAX_CONNECTIONS", default: 10_000, range: 1...1_000_000,
      environment: environment)
    self.maxConnectionsPerPeer = try Self.integer(
      maxConnectionsPerPeer, flag: "--max-connections-per-peer", variable: "GUESTD_MAX_CONNECTIONS_PER_PEER", default: 256,
      range: 1...1_000_000, environment: environment)
    self.maxRunningCallsPerPeer = try Self.integer(
      maxRunningCallsPerPeer, flag: "--max-running-calls-per-peer", variable: "GUESTD_MAX_RUNNING_CALLS_PER_PEER", default: 128,
      range: 1...1_000_000, environment: environment)
    self.maxCallsBeforeAuthentication = try Self.integer(
      maxCallsBeforeAuthentication, flag: "--max-calls-before-auth", variable: "GUESTD_MAX_CALLS_BEFORE_AUTH", default: 16,
      range: 1...4096, environment: environment)
    self.memoryBudgetMiB = try Self.integer(
      memoryBudgetMiB, flag: "--memory-budget-mib", variable: "GUESTD_MEMORY_BUDGET_MIB", default: 256, range: 16...1_048_576,
      environment: environment)
    let send = sendTimeout ?? environment["GUESTD_SEND_TIMEOUT"].map { Double($0) } ?? 30
    guard let send, (1...3600).contains(send) else {
      throw SettingsError("--send-timeout (GUESTD_SEND_TIMEOUT) must be a number of seconds from 1 to 3600")
    }
    self.sendTimeout = send
    let busyPoll = busyPollMicros ?? environment["GUESTD_BUSY_POLL_US"].map { Int($0) } ?? 50
    guard let busyPoll, (0...10_000).contains(busyPoll) else { throw SettingsError("--busy-poll-us must be 0…10000 microseconds") }
    self.busyPollMicros = busyPoll
    email = try EmailSettings(publicBaseURL: self.publicBaseURL, environment: environment)
  }

  /// An integer from a flag, else the environment, else `default`; a value
  /// that is not an integer in `range` is an error naming both.
  static func integer(
    _ flagValue: Int?, flag: String, variable: String, default: Int, range: ClosedRange<Int>, environment: [String: String]
  ) throws -> Int {
    let value = flagValue ?? environment[variable].map { Int($0) } ?? `default`
    guard let value, range.contains(value) else {
      throw SettingsError("\(flag) (\(variable)) must be an integer from \(range.lowerBound) to \(range.upperBound)")
    }
    return value
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
