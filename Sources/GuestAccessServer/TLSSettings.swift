import GuestAccessTransport

/// TLS on the RPC port: the server certificate, client certificates
/// (mutual TLS), how often the files are checked for changes, and whether a
/// non-loopback address may serve plaintext. Flags win over environment
/// variables, which win over defaults.
public struct TLSSettings: Sendable {
  /// The certificate, key and client CAs; nil serves plaintext.
  public var server: TLSServerOptions?
  /// Seconds between checks of the files for changes (0: only on SIGHUP).
  public var reloadInterval: Double
  /// Whether plaintext on a non-loopback address was explicitly allowed.
  public var allowPlaintext: Bool

  /// Plaintext (for a loopback address).
  public init() {
    server = nil
    reloadInterval = 0
    allowPlaintext = false
  }

  /// Reads the settings for a server listening on `host`.
  /// - Throws: `SettingsError` for a certificate without a key (or the
  ///   reverse), client CAs without a certificate, a bad interval, or a
  ///   non-loopback `host` without TLS and without `allowPlaintext`.
  public init(
    certificateFile: String? = nil, keyFile: String? = nil, clientCAFile: String? = nil, reloadInterval: Double? = nil,
    allowPlaintext: Bool = false, host: String, environment: [String: String]
  ) throws {
    let certificate = certificateFile ?? environment["GUESTD_TLS_CERT"]
    let key = keyFile ?? environment["GUESTD_TLS_KEY"]
    let clientCA = clientCAFile ?? environment["GUESTD_TLS_CLIENT_CA"]
    switch (certificate, key) {
    case (let certificate?, let key?):
      server = TLSServerOptions(certificateFile: certificate, keyFile: key, clientCAFile: clientCA)
    case (nil, nil):
      guard clientCA == nil else { throw SettingsError("--tls-client-ca (GUESTD_TLS_CLIENT_CA) needs --tls-cert and --tls-key") }
      server = nil
    default:
      throw SettingsError("--tls-cert (GUESTD_TLS_CERT) and --tls-key (GUESTD_TLS_KEY) go together")
    }
    let interval = reloadInterval ?? environment["GUESTD_TLS_RELOAD_INTERVAL"].map { Double($0) } ?? 60
    guard let interval, (0...86_400).contains(interval) else {
      throw SettingsError("--tls-reload-interval (GUESTD_TLS_RELOAD_INTERVAL) must be 0 to 86400 seconds")
    }
    self.reloadInterval = interval
    self.allowPlaintext = allowPlaintext || Self.flag(environment["GUESTD_ALLOW_PLAINTEXT"])
    if server == nil && !self.allowPlaintext && !Self.isLoopback(host) {
      throw SettingsError(
        "refusing to serve plaintext on \(host), which is not a loopback address: give --tls-cert and --tls-key, "
          + "or --allow-plaintext (GUESTD_ALLOW_PLAINTEXT=1) when a proxy in front terminates TLS")
    }
  }

  /// Whether the RPC port serves plaintext on a non-loopback address.
  public func isPlaintextExposed(host: String) -> Bool {
    server == nil && !Self.isLoopback(host)
  }

  /// Whether `host` (a numeric address, as `ServerSettings.host` holds it) is loopback-only.
  static func isLoopback(_ host: String) -> Bool {
    host == "::1" || host == "localhost" || host.hasPrefix("127.")
  }

  private static func flag(_ value: String?) -> Bool {
    guard let value else { return false }
    return ["1", "true", "yes", "on"].contains(value.lowercased())
  }
}
