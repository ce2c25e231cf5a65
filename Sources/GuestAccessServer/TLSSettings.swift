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

  /// Reads the settings for a server listening on `host` from typed values
  /// (tests, embedding); each goes through the same check as a flag.
  public init(
    certificateFile: String? = nil, keyFile: String? = nil, clientCAFile: String? = nil, reloadInterval: Double? = nil,
    allowPlaintext: Bool = false, host: String, environment: [String: String]
  ) throws {
    let typed: [(any SettingDescription, (any Sendable)?)] = [
      (Self.certificateSetting, certificateFile), (Self.keySetting, keyFile), (Self.clientCASetting, clientCAFile),
      (Self.reloadIntervalSetting, reloadInterval), (Self.allowPlaintextSetting, allowPlaintext ? "1" : nil),
    ]
    var flags: [String: String] = [:]
    for (setting, value) in typed { if let value { flags[setting.flag] = "\(value)" } }
    try self.init(flags: flags, host: host, environment: environment)
  }

  /// Reads the settings for a server listening on `host` from raw flag
  /// values keyed by flag name, else the environment, else the defaults
  /// (`TLSSettings.table`).
  /// - Throws: `SettingsError` for a bad value, a certificate without a key
  ///   (or the reverse), client CAs without a certificate, or a non-loopback
  ///   `host` without TLS and without `allow-plaintext`.
  public init(flags: [String: String], host: String, environment: [String: String]) throws {
    func value<V>(_ setting: ServerSetting<V>) throws -> V? { try setting.value(flag: flags[setting.flag], environment: environment) }
    let certificate = try value(Self.certificateSetting)
    let key = try value(Self.keySetting)
    let clientCA = try value(Self.clientCASetting)
    switch (certificate, key) {
    case (let certificate?, let key?):
      server = TLSServerOptions(certificateFile: certificate, keyFile: key, clientCAFile: clientCA)
    case (nil, nil):
      guard clientCA == nil else { throw SettingsError("--tls-client-ca (GUESTD_TLS_CLIENT_CA) needs --tls-cert and --tls-key") }
      server = nil
    default:
      throw SettingsError("--tls-cert (GUESTD_TLS_CERT) and --tls-key (GUESTD_TLS_KEY) go together")
    }
    reloadInterval = try Self.reloadIntervalSetting.required(flag: flags[Self.reloadIntervalSetting.flag], environment: environment)
    allowPlaintext = try value(Self.allowPlaintextSetting) ?? false
    if server == nil && !allowPlaintext && !Self.isLoopback(host) {
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
}
