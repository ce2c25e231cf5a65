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
  /// Open connections at most.
  public var maxConnections: Int
  /// Microseconds an event loop polls for events before it sleeps (0: never
  /// polls). Environment `GUESTD_BUSY_POLL_US`, default 50.
  public var busyPollMicros: Int
  /// The operator credential, when configured (else one is created on first start): at least 43
  /// base64url characters; a configured key revokes the bootstrap credential and removes `operator.key`.
  public var operatorKey: String?
  /// Invitations per rate window for tenants that set no limit.
  public var defaultInvitationRateLimit: Int32
  /// Seconds between background sweeps of the guest lifecycle (expired
  /// invitations and guests, scheduled removals, purges); 0 turns the
  /// background sweeper off. `--sweep-interval` or environment
  /// `GUESTD_SWEEP_INTERVAL`, default 60.
  public var sweepInterval: Double

  /// Email delivery: transport, sender, retries (`EmailSettings`).
  public var email: EmailSettings

  /// Reads settings; throws a message naming the bad flag or variable.
  public init(
    listen: String?, dataDir: String?, publicBaseURL: String?, logLevel: String?, drainTimeout: Double?,
    maxConnections: Int?, operatorKey: String? = nil, busyPollMicros: Int? = nil, sweepInterval: Double? = nil,
    environment: [String: String]
  ) throws {
    self.operatorKey = operatorKey ?? environment["GUESTD_OPERATOR_KEY"]
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
    let connections = maxConnections ?? environment["GUESTD_MAX_CONNECTIONS"].flatMap(Int.init) ?? 10_000
    guard connections > 0 else { throw SettingsError("--max-connections must be positive") }
    self.maxConnections = connections
    let busyPoll = busyPollMicros ?? environment["GUESTD_BUSY_POLL_US"].map { Int($0) } ?? 50
    guard let busyPoll, (0...10_000).contains(busyPoll) else { throw SettingsError("--busy-poll-us must be 0…10000 microseconds") }
    self.busyPollMicros = busyPoll
    email = try EmailSettings(publicBaseURL: self.publicBaseURL, environment: environment)
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
