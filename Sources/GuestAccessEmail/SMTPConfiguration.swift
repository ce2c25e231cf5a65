/// Where and how the SMTP transport relays mail.
public struct SMTPConfiguration: Sendable, Hashable {
  /// When to upgrade the connection with STARTTLS.
  public enum StartTLS: String, Sendable, Hashable, CaseIterable {
    /// When the server offers it (the default); credentials are then only sent once encrypted.
    case auto
    /// Always; a server that does not offer it fails the attempt.
    case required
    /// Never (credentials, if configured, go in clear: only for a trusted local relay).
    case off
  }

  /// The relay's host name or numeric address.
  public var host: String
  /// The relay's port (25 or 587 usually).
  public var port: Int
  /// The AUTH user name; nil for no authentication.
  public var username: String?
  /// The AUTH password.
  public var password: String?
  /// The STARTTLS policy.
  public var startTLS: StartTLS
  /// A PEM file of CA certificates to verify the relay with (nil: the system's).
  public var caFile: String?
  /// Seconds to wait for the TCP connection.
  public var connectTimeout: Double
  /// Seconds to wait for each reply (and for each send to progress).
  public var commandTimeout: Double
  /// The name sent with EHLO (nil: this machine's host name).
  public var heloName: String?

  /// Creates a configuration.
  public init(
    host: String, port: Int = 25, username: String? = nil, password: String? = nil, startTLS: StartTLS = .auto,
    caFile: String? = nil, connectTimeout: Double = 10, commandTimeout: Double = 60, heloName: String? = nil
  ) {
    self.host = host
    self.port = port
    self.username = username
    self.password = password
    self.startTLS = startTLS
    self.caFile = caFile
    self.connectTimeout = connectTimeout
    self.commandTimeout = commandTimeout
    self.heloName = heloName
  }
}
