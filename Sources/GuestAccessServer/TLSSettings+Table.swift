/// The TLS settings of `guestd`, written once: its flags, `--help`,
/// `TLSSettings` and the README's TLS table come from here (a test holds the
/// README to it).
extension TLSSettings {
  public static let certificateSetting = ServerSetting.text(
    "tls-cert", "GUESTD_TLS_CERT", default: nil, accepts: "a file",
    help: "PEM file with the server certificate (then any intermediates): the RPC port serves TLS only.")
  public static let keySetting = ServerSetting.text(
    "tls-key", "GUESTD_TLS_KEY", default: nil, accepts: "a file", help: "PEM file with the server certificate's private key.")
  public static let clientCASetting = ServerSetting.text(
    "tls-client-ca", "GUESTD_TLS_CLIENT_CA", default: nil, accepts: "a file",
    help: "PEM file with the CAs of client certificates: every client must present one (mutual TLS).")
  public static let reloadIntervalSetting = ServerSetting.seconds(
    "tls-reload-interval", "GUESTD_TLS_RELOAD_INTERVAL", default: 60, range: 0...86_400,
    help: "Seconds between checks of the TLS files for changes, reloaded without dropping connections (0: only on SIGHUP).")
  public static let allowPlaintextSetting = ServerSetting<Bool>(
    "allow-plaintext", "GUESTD_ALLOW_PLAINTEXT", default: false, accepts: "1 or 0 (true/false, yes/no, on/off)",
    help: "Serve plaintext on a non-loopback --listen address (only behind a proxy that terminates TLS).") { text in
    switch text.lowercased() {
    case "1", "true", "yes", "on": true
    case "0", "false", "no", "off": false
    default: nil
    }
  }

  /// Every TLS setting, in the order of `--help` and the README.
  public static let table: [any SettingDescription] = [
    certificateSetting, keySetting, clientCASetting, reloadIntervalSetting, allowPlaintextSetting,
  ]
}
