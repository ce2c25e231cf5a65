import ArgumentParser
import GuestAccessClient

/// `guestctl check-access --user ID --app ID | --group ID`.
struct CheckAccessCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check-access",
    abstract: "Ask whether a user may use an application, or is in a group (a denial is an answer, exit 0).")
  @OptionGroup var global: GlobalOptions
  @Option(help: "The user id in the tenant, or self.") var user: String = "self"
  @Option(help: "An application id.") var app: String?
  @Option(help: "A group id.") var group: String?

  func validate() throws {
    guard (app == nil) != (group == nil) else { throw ValidationError("give --app or --group") }
  }

  mutating func run() async throws {
    let request = CheckAccessRequest(
      tenantID: global.tenantID, principalUserID: user, resourceID: app ?? group ?? "", resourceType: app != nil ? .application : .group)
    let response = try await global.perform { try await $0.guests.checkAccess(request) }
    try global.output(response) {
      "\(response.allowed ? "allowed" : "denied"): \(Display.name(response.reason)) (user \(response.principalUserID), "
        + "\(Display.name(response.resourceType).lowercased()) \(request.resourceID))"
    }
  }
}
