import ArgumentParser
import Foundation
import GuestAccessClient

/// Options every subcommand takes: where the server is, who is calling, and
/// how results are printed.
struct GlobalOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Server address HOST:PORT (default: $GUESTACCESS_SERVER, else 127.0.0.1:7700).", valueName: "host:port"))
  var server: String?

  @Option(help: ArgumentHelp("API key (default: $GUESTACCESS_KEY).", valueName: "secret"))
  var key: String?

  @Option(name: .customLong("key-file"), help: ArgumentHelp("Read the API key from this file (keeps it out of `ps`).", valueName: "path"))
  var keyFile: String?

  @Option(help: ArgumentHelp("Tenant to act in: a guest names the inviting tenant, the operator the tenant to manage.", valueName: "tenant-id"))
  var tenant: String?

  @Flag(help: "Connect over TLS, verifying the server against the system's CAs (default: $GUESTACCESS_TLS=1; implied by --cacert).")
  var tls = false

  @Option(help: ArgumentHelp("PEM file of the CAs to verify the server with; implies --tls (default: $GUESTACCESS_CA_FILE).", valueName: "path"))
  var cacert: String?

  @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM client certificate for mutual TLS (default: $GUESTACCESS_TLS_CERT).", valueName: "path"))
  var tlsCert: String?

  @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM key of --tls-cert (default: $GUESTACCESS_TLS_KEY).", valueName: "path"))
  var tlsKey: String?

  @Option(name: .customLong("tls-server-name"), help: ArgumentHelp("Name the server's certificate must carry (default: the host of --server; $GUESTACCESS_TLS_SERVER_NAME).", valueName: "name"))
  var tlsServerName: String?

  @Flag(help: "Print the result as one JSON value instead of a table.")
  var json = false

  @Option(help: ArgumentHelp("Print only this field of the result, e.g. `id`, `admin_secret`, `invitation.redeem_url`.", valueName: "path"))
  var field: String?

  /// The tenant to name in requests' `tenant_id` (empty = the caller's acting tenant).
  var tenantID: String { tenant ?? "" }

  /// The server address: `--server`, else `$GUESTACCESS_SERVER`, else the default.
  var serverAddress: String {
    server ?? ProcessInfo.processInfo.environment["GUESTACCESS_SERVER"] ?? "127.0.0.1:7700"
  }

  /// The credential: `--key`, else `--key-file`, else `$GUESTACCESS_KEY`; nil when none.
  func credential() throws -> String? {
    if let key { return key }
    if let keyFile {
      guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8) else {
        throw failure("cannot read --key-file \(keyFile)")
      }
      return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let env = ProcessInfo.processInfo.environment["GUESTACCESS_KEY"]
    return env?.isEmpty == false ? env : nil
  }

  /// The TLS settings of the flags and environment; nil for plaintext.
  func tlsConfiguration() throws -> TLSConfiguration? {
    let environment = ProcessInfo.processInfo.environment
    let value = { (name: String) in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
    let caFile = cacert ?? value("GUESTACCESS_CA_FILE")
    let certificate = tlsCert ?? value("GUESTACCESS_TLS_CERT")
    let key = tlsKey ?? value("GUESTACCESS_TLS_KEY")
    let enabled = tls || ["1", "true", "yes"].contains(value("GUESTACCESS_TLS")?.lowercased() ?? "") || caFile != nil
      || certificate != nil
    guard enabled else { return nil }
    guard (certificate == nil) == (key == nil) else { throw failure("--tls-cert and --tls-key go together") }
    return TLSConfiguration(
      caFile: caFile, certificateFile: certificate, keyFile: key, serverName: tlsServerName ?? value("GUESTACCESS_TLS_SERVER_NAME"))
  }

  /// A client for the server; `anonymous` sends no credential, `actingTenant` overrides `--tenant`.
  func makeClient(anonymous: Bool = false, actingTenant: String? = nil) throws -> GuestAccessClient {
    let address = serverAddress
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
      throw ValidationError("--server must be HOST:PORT")
    }
    var host = String(address[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return GuestAccessClient(
      host: host, port: port, credential: anonymous ? nil : try credential(), tenant: actingTenant ?? tenant,
      tls: try tlsConfiguration())
  }

  /// Makes a client, runs `body` with it and closes it; an RPC failure prints
  /// `error: CODE: message` on standard error and exits with 2 + the status code.
  func perform<T>(anonymous: Bool = false, actingTenant: String? = nil, _ body: (GuestAccessClient) async throws -> T) async throws -> T {
    let client = try makeClient(anonymous: anonymous, actingTenant: actingTenant)
    defer { client.close() }
    return try await call { try await body(client) }
  }

  /// Runs a call; on failure prints the status code name and message and exits non-zero.
  func call<T>(_ body: () async throws -> T) async throws -> T {
    do {
      return try await body()
    } catch let error as RPCError {
      Console.error(ErrorReport.text(for: error))
      throw ExitCode(ErrorReport.exitCode(for: error))
    }
  }

  /// Prints `value`: one field with `--field`, JSON with `--json`, else `text()`.
  func output<T: Encodable>(_ value: T, text: () -> String) throws {
    if let field {
      print(try JSONOutput.field(field, of: value))
    } else if json {
      print(JSONOutput.pretty(value))
    } else {
      let rendered = text()
      if !rendered.isEmpty { print(rendered) }
    }
  }

  /// Prints `value` as a table or detail view; `next` is a list's next page token.
  func output<T: Encodable>(_ value: T, next: String, text: () -> String) throws {
    try output(value, text: text)
    if !json && field == nil && !next.isEmpty {
      Console.error("more results: repeat with --page-token \(next) (or --all)")
    }
  }

  /// Whether results are printed for people (neither `--json` nor `--field`).
  var isText: Bool { !json && field == nil }
}
