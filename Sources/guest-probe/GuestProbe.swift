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
    guard let connect = ProbeDuration.parse(connectTimeout), let rpc = ProbeDuration.parse(rpcTimeout) else {
      printError("error: invalid timeout (use e.g. 1s, 500ms)")
      throw ExitCode(1)
    }
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), port > 0, port < 65536 else {
      printError("error: --addr must be HOST:PORT")
      throw ExitCode(1)
    }
    var host = String(address[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    if host.isEmpty { host = "127.0.0.1" }
    let started = ContinuousClock.now
    if verbose { printError("establishing connection to \(host):\(port)") }
    let transport = TCPClientTransport(host: host, port: port, connections: 1, connectTimeout: connect)
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
      let response = try await client.health.check(HealthCheckRequest(service: service), options: CallOptions(timeout: rpc))
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

/// Writes a line to standard error.
func printError(_ line: String) {
  let text = line + "\n"
  _ = text.withCString { write(2, $0, strlen($0)) }
}
