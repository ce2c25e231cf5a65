import ArgumentParser
import Foundation
import GuestAccessTLS
import GuestAccessTransport
import GuestLoadKit

/// Where the load goes and as whom.
struct TargetOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Server address HOST:PORT (ghz: the positional host).", valueName: "host:port"))
  var server: String = "127.0.0.1:7700"

  @Option(
    name: .customLong("api-key"),
    help: ArgumentHelp(
      "API key sent as `authorization: Bearer …` (default: $GUESTACCESS_KEY); for scenarios, the operator key that sets up a tenant. (guestctl's --key: ghz's --key is the TLS client key.)",
      valueName: "secret"))
  var apiKey: String?

  @Option(name: .customLong("api-key-file"), help: ArgumentHelp("Read the API key from this file (keeps it out of `ps`).", valueName: "path"))
  var apiKeyFile: String?

  @Option(help: ArgumentHelp(
    "Tenant to act in, as guestctl's --tenant: metadata `tenant`, and the request's tenant_id when the data leaves it out.",
    valueName: "tenant-id"))
  var tenant: String?

  @Option(name: .customLong("admin-key"), help: ArgumentHelp("Scenarios: use the tenant of this admin key instead of setting one up.", valueName: "secret"))
  var adminKey: String?

  @Option(help: "TCP connections the calls are spread over (ghz: --connections).")
  var connections: Int = 1

  @Option(help: "Client event loops (threads); default one per connection, at most one per core.")
  var loops: Int?

  /// The loops used: a loop with no connection of its own would only hand
  /// its calls to another loop's thread, so by default there are no more
  /// loops than connections.
  var loopCount: Int { loops ?? min(EventLoopGroup.coreCount, connections) }

  @Option(name: .customLong("busy-poll-us"), help: "Microseconds a client event loop polls for replies before it sleeps (0 = off).")
  var busyPollMicros: Int = 50

  @Flag(help: "Connect over TLS (implied by --cacert, --cert, --cname and --skipTLS).")
  var tls = false

  @Option(help: ArgumentHelp("PEM file of the CAs that verify the server's certificate (ghz: --cacert); default: the system's CAs.", valueName: "file"))
  var cacert: String?

  @Option(help: ArgumentHelp("PEM client certificate for mutual TLS (ghz: --cert).", valueName: "file"))
  var cert: String?

  @Option(help: ArgumentHelp("PEM key of the client certificate (ghz: --key; the API key is --api-key).", valueName: "file"))
  var key: String?

  @Option(help: ArgumentHelp("Server name the certificate must carry, and SNI (ghz: --cname).", valueName: "name"))
  var cname: String?

  @Flag(name: .customLong("skipTLS"), help: "TLS without verifying the server's certificate or name: INSECURE, for throwaway certificates only (ghz: --skipTLS).")
  var skipTLS = false

  @Flag(help: "Plaintext, no TLS (ghz: --insecure); the default unless a TLS option is given.")
  var insecure = false

  @Flag(help: "Retry as the client library does by default (UNAVAILABLE and never-processed calls, with backoff) instead of never.")
  var retry = false

  func validate() throws {
    guard connections > 0 else { throw ValidationError("--connections must be positive") }
    guard loops.map({ $0 > 0 }) ?? true else { throw ValidationError("--loops must be positive") }
    guard (0...10_000).contains(busyPollMicros) else { throw ValidationError("--busy-poll-us must be 0…10000") }
    if insecure && tlsConfiguration != nil {
      throw ValidationError("--insecure (plaintext) cannot be combined with --tls, --cacert, --cert, --key, --cname or --skipTLS")
    }
    if key != nil && cert == nil { throw ValidationError("--key needs --cert (the client certificate it belongs to)") }
  }

  /// The TLS settings when any TLS option is given; nil for plaintext.
  var tlsConfiguration: TLSConfiguration? {
    guard tls || cacert != nil || cert != nil || key != nil || cname != nil || skipTLS else { return nil }
    return TLSConfiguration(caFile: cacert, certificateFile: cert, keyFile: key, serverName: cname, insecureSkipVerify: skipTLS)
  }

  func hostAndPort() throws -> (String, Int) {
    guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
      throw LoadSetupError.invalidOption("--server must be HOST:PORT")
    }
    var host = String(server[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host, port)
  }

  /// `--api-key`, else `--api-key-file`, else `$GUESTACCESS_KEY`; nil when none.
  func credential() throws -> String? {
    if let apiKey { return apiKey }
    if let apiKeyFile {
      guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
        throw LoadSetupError.unreadableFile(option: "--api-key-file", path: apiKeyFile)
      }
      return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let env = ProcessInfo.processInfo.environment["GUESTACCESS_KEY"]
    return env?.isEmpty == false ? env : nil
  }

  var reportOptions: [String: String] {
    var options = ["server": server, "connections": "\(connections)"]
    if let tenant { options["tenant"] = tenant }
    if retry { options["retry"] = "true" }
    if let tls = tlsConfiguration {
      options["tls"] = tls.insecureSkipVerify ? "skip-verify" : "verify"
      if let cacert { options["cacert"] = cacert }
      if let cert { options["cert"] = cert }
      if let cname { options["cname"] = cname }
    }
    return options
  }
}
