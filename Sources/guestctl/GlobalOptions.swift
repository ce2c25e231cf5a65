import ArgumentParser
import Foundation
import GuestAccessClient

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
  @Option(help: "Server address HOST:PORT.")
  var server: String = "127.0.0.1:7700"

  @Option(help: "API key (default: $GUESTACCESS_KEY).")
  var key: String?

  @Option(help: "Tenant to act in (for guests acting in another tenant).")
  var tenant: String?

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  func makeClient() throws -> GuestAccessClient {
    guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
      throw ValidationError("--server must be HOST:PORT")
    }
    let key = self.key ?? ProcessInfo.processInfo.environment["GUESTACCESS_KEY"]
    return GuestAccessClient(host: String(server[..<colon]), port: port, credential: key, tenant: tenant)
  }

  /// Runs a call; on failure prints the status code name and message and exits non-zero.
  func call<T>(_ body: () async throws -> T) async throws -> T {
    do {
      return try await body()
    } catch let error as RPCError {
      FileHandle.standardError.write(Data("error: \(error.code.name): \(error.message)\n".utf8))
      throw ExitCode(Int32(2 + min(error.code.rawValue, 16)))
    }
  }

  /// Prints `value` as JSON with `--json`, else with `text`.
  func output<T: Encodable>(_ value: T, text: (T) -> String) {
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self))
    } else {
      print(text(value))
    }
  }
}
