import ArgumentParser
import GuestAccessClient

/// `guestctl`: the admin and user command line of GuestAccess.
@main
struct GuestCtl: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guestctl",
    abstract: "Administer GuestAccess: tenants, invitations, guests.",
    version: "0.1.0",
    subcommands: [HealthCommand.self])
}

/// `guestctl health`: the server's health.
struct HealthCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "health", abstract: "Show the health of the server or one service.")

  @OptionGroup var global: GlobalOptions

  @Option(help: "Service name; empty for the whole server.")
  var service: String = ""

  mutating func run() async throws {
    let client = try global.makeClient()
    defer { client.close() }
    let response = try await global.call { try await client.health.check(HealthCheckRequest(service: service)) }
    global.output(response) { "status: \($0.status.protoName)" }
  }
}
