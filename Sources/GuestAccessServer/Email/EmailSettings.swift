import GuestAccessEmail

/// How `guestd` delivers the outbox: the transport, the sender, and the
/// retry schedule. Flags win over environment variables, which win over defaults.
public struct EmailSettings: Sendable {
  /// The transports.
  public enum Transport: String, Sendable, CaseIterable {
    /// One `.eml` file per message in a directory (the default).
    case spool
    /// An SMTP relay.
    case smtp
  }

  /// The transport in use.
  public var transport: Transport
  /// The spool directory; nil = `<data-dir>/outbox`.
  public var spoolDir: String?
  /// The relay, for the smtp transport.
  public var smtp: SMTPConfiguration?
  /// The sender (From and envelope sender).
  public var from: EmailAddress
  /// Attempts before a message fails for good.
  public var maxAttempts: Int
  /// Seconds before the first retry; each later retry waits twice as long.
  public var retryDelay: Double
  /// The longest wait between two attempts, in seconds.
  public var maxRetryDelay: Double
  /// Seconds between looks at the outbox when it has nothing due.
  public var pollInterval: Double

  /// Reads the settings from typed values (tests, embedding); each goes
  /// through the same check as a flag. `publicBaseURL` gives the default sender's domain.
  public init(
    transport: String? = nil, spoolDir: String? = nil, smtpHost: String? = nil, smtpPort: Int? = nil,
    smtpUsername: String? = nil, smtpPassword: String? = nil, smtpStartTLS: String? = nil, smtpCAFile: String? = nil,
    smtpTimeout: Double? = nil, from: String? = nil, maxAttempts: Int? = nil, retryDelay: Double? = nil,
    publicBaseURL: String, environment: [String: String]
  ) throws {
    let typed: [(any SettingDescription, (any Sendable)?)] = [
      (Self.transportSetting, transport), (Self.spoolDirSetting, spoolDir), (Self.smtpHostSetting, smtpHost),
      (Self.smtpPortSetting, smtpPort), (Self.smtpUsernameSetting, smtpUsername), (Self.smtpPasswordSetting, smtpPassword),
      (Self.smtpStartTLSSetting, smtpStartTLS), (Self.smtpCAFileSetting, smtpCAFile), (Self.smtpTimeoutSetting, smtpTimeout),
      (Self.fromSetting, from), (Self.maxAttemptsSetting, maxAttempts), (Self.retryDelaySetting, retryDelay),
    ]
    var flags: [String: String] = [:]
    for (setting, value) in typed { if let value { flags[setting.flag] = "\(value)" } }
    try self.init(flags: flags, publicBaseURL: publicBaseURL, environment: environment)
  }

  /// Reads the settings from raw flag values keyed by flag name (without
  /// dashes), else the environment, else the defaults (`EmailSettings.table`).
  /// - Throws: `SettingsError` naming the flag and the variable of a bad value,
  ///   or a combination that cannot work (smtp without a host, a user name
  ///   without a password).
  public init(flags: [String: String], publicBaseURL: String, environment: [String: String]) throws {
    func value<V>(_ setting: ServerSetting<V>) throws -> V? { try setting.value(flag: flags[setting.flag], environment: environment) }
    func required<V>(_ setting: ServerSetting<V>) throws -> V { try setting.required(flag: flags[setting.flag], environment: environment) }
    transport = try required(Self.transportSetting)
    spoolDir = try value(Self.spoolDirSetting)
    from = try value(Self.fromSetting) ?? EmailAddress(parsing: "GuestAccess <no-reply@\(Self.domain(of: publicBaseURL))>")!
    maxAttempts = try required(Self.maxAttemptsSetting)
    retryDelay = try required(Self.retryDelaySetting)
    maxRetryDelay = max(retryDelay, 3600)
    pollInterval = 1
    // The relay's settings are checked whatever the transport, and used with smtp.
    let host = try value(Self.smtpHostSetting)
    let port = try required(Self.smtpPortSetting)
    let startTLS = try required(Self.smtpStartTLSSetting)
    let timeout = try required(Self.smtpTimeoutSetting)
    let username = try value(Self.smtpUsernameSetting)
    let password = try value(Self.smtpPasswordSetting)
    let caFile = try value(Self.smtpCAFileSetting)
    guard transport == .smtp else {
      smtp = nil
      return
    }
    guard let host else { throw SettingsError("--email-transport smtp needs --smtp-host (or GUESTD_SMTP_HOST)") }
    if username != nil && password == nil {
      throw SettingsError("--smtp-username needs a password: --smtp-password-file, --smtp-password or GUESTD_SMTP_PASSWORD")
    }
    smtp = SMTPConfiguration(
      host: host, port: port, username: username, password: password, startTLS: startTLS, caFile: caFile,
      connectTimeout: min(timeout, 10), commandTimeout: timeout)
  }

  /// The host of a URL such as `https://guests.example.com:8443/x`, or `localhost`.
  static func domain(of url: String) -> String {
    var rest = Substring(url)
    if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
    let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    let hostPort = authority.split(separator: "@").last ?? authority
    let host = hostPort.hasPrefix("[") ? "" : String(hostPort.split(separator: ":").first ?? "")
    let valid = !host.isEmpty && host.contains { $0.isLetter } && host.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
    return valid ? host.lowercased() : "localhost"
  }
}
