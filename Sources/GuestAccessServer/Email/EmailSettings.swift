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

  /// Reads the settings. `publicBaseURL` gives the default sender's domain.
  public init(
    transport: String? = nil, spoolDir: String? = nil, smtpHost: String? = nil, smtpPort: Int? = nil,
    smtpUsername: String? = nil, smtpPassword: String? = nil, smtpStartTLS: String? = nil, smtpCAFile: String? = nil,
    smtpTimeout: Double? = nil, from: String? = nil, maxAttempts: Int? = nil, retryDelay: Double? = nil,
    publicBaseURL: String, environment: [String: String]
  ) throws {
    let name = transport ?? environment["GUESTD_EMAIL_TRANSPORT"] ?? "spool"
    guard let parsed = Transport(rawValue: name.lowercased()) else {
      throw SettingsError("--email-transport must be spool or smtp, got \"\(name)\"")
    }
    self.transport = parsed
    self.spoolDir = spoolDir ?? environment["GUESTD_SPOOL_DIR"]
    let sender = from ?? environment["GUESTD_EMAIL_FROM"] ?? "GuestAccess <no-reply@\(Self.domain(of: publicBaseURL))>"
    guard let address = EmailAddress(parsing: sender) else {
      throw SettingsError("--email-from must be an address or \"Name <address>\", got \"\(sender)\"")
    }
    self.from = address
    self.maxAttempts = maxAttempts ?? environment["GUESTD_EMAIL_MAX_ATTEMPTS"].flatMap(Int.init) ?? 8
    guard self.maxAttempts >= 1 else { throw SettingsError("--email-max-attempts must be at least 1") }
    self.retryDelay = retryDelay ?? environment["GUESTD_EMAIL_RETRY_DELAY"].flatMap(Double.init) ?? 30
    guard self.retryDelay >= 0 else { throw SettingsError("--email-retry-delay must not be negative") }
    maxRetryDelay = max(self.retryDelay, 3600)
    pollInterval = 1
    guard parsed == .smtp else {
      smtp = nil
      return
    }
    guard let host = smtpHost ?? environment["GUESTD_SMTP_HOST"], !host.isEmpty else {
      throw SettingsError("--email-transport smtp needs --smtp-host (or GUESTD_SMTP_HOST)")
    }
    let port = smtpPort ?? environment["GUESTD_SMTP_PORT"].flatMap(Int.init) ?? 25
    guard (1...65535).contains(port) else { throw SettingsError("--smtp-port must be 1 to 65535") }
    let tlsName = smtpStartTLS ?? environment["GUESTD_SMTP_STARTTLS"] ?? "auto"
    guard let startTLS = SMTPConfiguration.StartTLS(rawValue: tlsName.lowercased()) else {
      throw SettingsError("--smtp-starttls must be auto, required or off, got \"\(tlsName)\"")
    }
    let timeout = smtpTimeout ?? environment["GUESTD_SMTP_TIMEOUT"].flatMap(Double.init) ?? 60
    guard timeout > 0 else { throw SettingsError("--smtp-timeout must be positive") }
    let username = smtpUsername ?? environment["GUESTD_SMTP_USERNAME"]
    let password = smtpPassword ?? environment["GUESTD_SMTP_PASSWORD"]
    if username != nil && password == nil {
      throw SettingsError("--smtp-username needs a password: --smtp-password-file, --smtp-password or GUESTD_SMTP_PASSWORD")
    }
    smtp = SMTPConfiguration(
      host: host, port: port, username: username, password: password, startTLS: startTLS,
      caFile: smtpCAFile ?? environment["GUESTD_SMTP_CA_FILE"], connectTimeout: min(timeout, 10), commandTimeout: timeout)
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
