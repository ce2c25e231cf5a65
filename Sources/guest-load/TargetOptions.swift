import ArgumentParser
import Foundation
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

  @Option(help: "Client event loops (threads); default one per core.")
  var loops: Int = EventLoopGroup.coreCount

  @Option(name: .customLong("busy-poll-us"), help: "Microseconds a client event loop polls for replies before it sleeps (0 = off).")
  var busyPollMicros: Int = 50

  @Flag(help: "Retry as the client library does by default (UNAVAILABLE and never-processed calls, with backoff) instead of never.")
  var retry = false

  func validate() throws {
    guard connections > 0 else { throw ValidationError("--connections must be positive") }
    guard loops > 0 else { throw ValidationError("--loops must be positive") }
    guard (0...10_000).contains(busyPollMicros) else { throw ValidationError("--busy-poll-us must be 0…10000") }
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
    return options
  }
}
