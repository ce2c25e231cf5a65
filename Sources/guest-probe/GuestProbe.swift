import ArgumentParser
import GuestAccessClient

#if canImport(Glibc)
import Glibc
#endif

/// The health probe, with grpc_health_probe's flags and exit codes:
/// 0 serving, 1 bad arguments, 2 connection failure or timeout,
/// 3 RPC failure or timeout, 4 not serving.
@main
struct GuestProbe: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guest-probe",
    abstract: "Checks a guestd's health (exit 0 serving, 1 bad arguments, 2 connection failure, 3 RPC failure, 4 not serving).",
    version: "0.1.0")

  // Each flag also takes grpc_health_probe's single-dash spelling (`-addr=:7700`),
  // so the probe drops into existing Kubernetes probe definitions.
  @Option(name: [.customLong("addr"), .customLong("addr", withSingleDash: true)], help: "Server address HOST:PORT (an empty host is localhost).")
  var address: String = "127.0.0.1:7700"

  @Option(name: [.customLong("service"), .customLong("service", withSingleDash: true)], help: "Service name to check; empty checks the whole server.")
  var service: String = ""

  @Option(name: [.customLong("connect-timeout"), .customLong("connect-timeout", withSingleDash: true)], help: "Connection timeout, e.g. 1s or 500ms.")
  var connectTimeout: String = "1s"

  @Option(name: [.customLong("rpc-timeout"), .customLong("rpc-timeout", withSingleDash: true)], help: "RPC timeout, e.g. 1s or 500ms.")
  var rpcTimeout: String = "1s"

  @Flag(name: [.customShort("v"), .customLong("v")], help: "Verbose output (on standard error).")
  var verbose = false

  @Flag(name: [.customLong("tls"), .customLong("tls", withSingleDash: true)], help: "Use TLS (default: trust the system's CAs).")
  var tls = false

  @Option(name: [.customLong("tls-ca-cert"), .customLong("tls-ca-cert", withSingleDash: true)], help: "(with -tls) PEM file of CA certificates to verify the server with.")
  var tlsCACert: String?

  @Option(name: [.customLong("tls-client-cert"), .customLong("tls-client-cert", withSingleDash: true)], help: "(with -tls) PEM client certificate for mutual TLS.")
  var tlsClientCert: String?

  @Option(name: [.customLong("tls-client-key"), .customLong("tls-client-key", withSingleDash: true)], help: "(with -tls) PEM key of the client certificate.")
  var tlsClientKey: String?

  @Flag(name: [.customLong("tls-no-verify"), .customLong("tls-no-verify", withSingleDash: true)], help: "(with -tls) Do not verify the server's certificate (INSECURE).")
  var tlsNoVerify = false

  @Option(name: [.customLong("tls-server-name"), .customLong("tls-server-name", withSingleDash: true)], help: "(with -tls) Name the server's certificate must carry, and the SNI sent (default: the host of -addr).")
  var tlsServerName: String?

  @Option(name: [.customLong("rpc-header"), .customLong("rpc-header", withSingleDash: true)], help: "Additional RPC header, \"name: value\" (repeatable).")
  var rpcHeaders: [String] = []

  @Option(name: [.customLong("user-agent"), .customLong("user-agent", withSingleDash: true)], help: "User-agent header value of the health check.")
  var userAgent: String = "guest-probe"

  static func main() async {
    do {
      var command = try parseAsRoot()
      if var probe = command as? GuestProbe {
        try await probe.run()
      } else {
        try command.run()  // --help, --version
      }
    } catch let exit as ExitCode {
      Glibc.exit(exit.rawValue)
    } catch {
      // Bad arguments (grpc_health_probe exits 1 for flag errors).
      let message = GuestProbe.message(for: error)
      let code = GuestProbe.exitCode(for: error)
      if !message.isEmpty {
        // --help and --version go to standard output, errors to standard error.
        if code == .success { print(message) } else { printError(message) }
      }
      Glibc.exit(code == .success ? 0 : 1)
    }
  }

  mutating func run() async throws {
    guard let connect = DurationText.parse(connectTimeout), connect > .zero, let rpc = DurationText.parse(rpcTimeout), rpc > .zero else {
      printError("error: invalid timeout (use e.g. 1s, 500ms)")
      throw ExitCode(1)
    }
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), port > 0, port < 65536 else {
      printError("error: --addr must be HOST:PORT")
      throw ExitCode(1)
    }
    let tlsConfiguration = try tlsSettings()
    var metadata: Metadata = [:]
    metadata.add("user-agent", userAgent)
    for header in rpcHeaders {
      guard let colon = header.firstIndex(of: ":") else {
        printError("error: -rpc-header must be \"name: value\", got \"\(header)\"")
        throw ExitCode(1)
      }
      metadata.add(Self.trimmed(header[..<colon]).lowercased(), Self.trimmed(header[header.index(after: colon)...]))
    }
    var host = String(address[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    if host.isEmpty { host = "127.0.0.1" }
    let started = ContinuousClock.now
    if verbose { printError("establishing connection to \(host):\(port)") }
    let transport = TCPClientTransport(host: host, port: port, connections: 1, connectTimeout: connect, tls: tlsConfiguration)
    let client = GuestAccessClient(transport: transport, retryPolicy: .none)
    defer { client.close() }
    do {
      try await transport.connect()
    } catch {
      printError("error: failed to connect service at \"\(address)\": \(error)")
      throw ExitCode(2)
    }
    if verbose { printError("connection established (took \(ContinuousClock.now - started))") }
    do {
      let response = try await client.health.check(HealthCheckRequest(service: service), options: CallOptions(timeout: rpc, metadata: metadata))
      guard response.status == .serving else {
        printError("service unhealthy (responded with \"\(response.status.protoName)\")")
        throw ExitCode(4)
      }
      if verbose { printError("time elapsed: \(ContinuousClock.now - started)") }
      print("status: SERVING")
    } catch let error as RPCError {
      printError("error: health rpc failed: \(error)")
      throw ExitCode(3)
    }
  }
}

extension GuestProbe {
  static func trimmed(_ text: Substring) -> String {
    String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
  }

  /// The TLS settings of the -tls flags, checked as grpc_health_probe checks them (exit 1).
  func tlsSettings() throws -> TLSConfiguration? {
    guard tls else {
      let stray = [("-tls-ca-cert", tlsCACert != nil), ("-tls-client-cert", tlsClientCert != nil), ("-tls-client-key", tlsClientKey != nil),
                   ("-tls-no-verify", tlsNoVerify), ("-tls-server-name", tlsServerName != nil)].first { $0.1 }
      if let stray {
        printError("error: specified \(stray.0) without specifying -tls")
        throw ExitCode(1)
      }
      return nil
    }
    if tlsNoVerify && tlsCACert != nil {
      printError("error: cannot specify -tls-ca-cert with -tls-no-verify (CA cert would not be used)")
      throw ExitCode(1)
    }
    if (tlsClientCert == nil) != (tlsClientKey == nil) {
      printError("error: -tls-client-cert and -tls-client-key go together")
      throw ExitCode(1)
    }
    return TLSConfiguration(
      caFile: tlsCACert, certificateFile: tlsClientCert, keyFile: tlsClientKey, serverName: tlsServerName,
      insecureSkipVerify: tlsNoVerify)
  }
}

/// Writes a line to standard error.
func printError(_ line: String) {
  let text = line + "\n"
  _ = text.withCString { write(2, $0, strlen($0)) }
}
