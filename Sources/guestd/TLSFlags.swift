import ArgumentParser
import GuestAccessServer

/// The TLS flags of `guestd` (the RPC port).
struct TLSFlags: ParsableArguments {
  @Option(name: .customLong("tls-cert"), help: "PEM file with the server certificate (then any intermediates): the RPC port serves TLS only.")
  var certificate: String?

  @Option(name: .customLong("tls-key"), help: "PEM file with the server certificate's private key.")
  var key: String?

  @Option(name: .customLong("tls-client-ca"), help: "PEM file with the CAs of client certificates: every client must present one (mutual TLS).")
  var clientCA: String?

  @Option(name: .customLong("tls-reload-interval"), help: "Seconds between checks of the TLS files for changes, reloaded without dropping connections (default 60; 0: only on SIGHUP).")
  var reloadInterval: Double?

  @Flag(name: .customLong("allow-plaintext"), help: "Serve plaintext on a non-loopback --listen address (only behind a proxy that terminates TLS).")
  var allowPlaintext = false

  /// The TLS settings these flags and the environment describe.
  func settings(host: String, environment: [String: String]) throws -> TLSSettings {
    try TLSSettings(
      certificateFile: certificate, keyFile: key, clientCAFile: clientCA, reloadInterval: reloadInterval,
      allowPlaintext: allowPlaintext, host: host, environment: environment)
  }
}
