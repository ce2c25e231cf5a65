import ArgumentParser
import GuestAccessClient

/// `guestctl health`: the server's health.
struct HealthCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "health", abstract: "Show the health of the server or one service.")

  @OptionGroup var global: GlobalOptions

  @Option(help: "Service name, e.g. guestaccess.v1.TenantService; empty for the whole server.")
  var service: String = ""

  mutating func run() async throws {
    let response = try await global.perform { try await $0.health.check(HealthCheckRequest(service: service)) }
    try global.output(response) { "status: \(Display.shortName(response.status))" }
  }
}
