import ArgumentParser
import GuestAccessClient

/// `guestctl app …`: applications and their assignments.
struct AppCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "app", abstract: "Create and list applications; assign and unassign users.",
    subcommands: [Create.self, List.self, Assign.self, Unassign.self])

  /// `app create NAME [--description D]`.
  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an application.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Display name.") var name: String
    @Option(help: "Free text.") var description: String = ""
    @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""

    mutating func run() async throws {
      let request = CreateApplicationRequest(
        tenantID: global.tenantID, idempotencyKey: idempotencyKey, displayName: name, description: description)
      let app = try await global.perform { try await $0.tenants.createApplication(request) }
      try global.output(app) { DetailView.render(app) }
    }
  }

  /// `app list [--user USER]`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List applications.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only applications this user is assigned to.") var user: String = ""

    mutating func run() async throws {
      let (tenantID, user) = (global.tenantID, user)
      let (apps, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.tenants.listApplications(
            ListApplicationsRequest(tenantID: tenantID, pageSize: size, pageToken: token, assignedUserID: user))
          return (response.applications, response.nextPageToken)
        }
      }
      try global.output(ListApplicationsResponse(applications: apps, nextPageToken: next), next: next) {
        Table.applications(apps).render(empty: "no applications")
      }
    }
  }

  /// `app assign APP USER`.
  struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Assign a user (member or guest) to an application.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Application id.") var app: String
    @Argument(help: "User id.") var user: String

    mutating func run() async throws {
      let request = AssignApplicationRequest(tenantID: global.tenantID, applicationID: app, userID: user)
      let response = try await global.perform { try await $0.tenants.assignApplication(request) }
      try global.output(response) { response.changed ? "assigned \(user) to \(app)" : "\(user) already was assigned to \(app)" }
    }
  }

  /// `app unassign APP USER`.
  struct Unassign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a user's assignment to an application.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Application id.") var app: String
    @Argument(help: "User id.") var user: String

    mutating func run() async throws {
      let request = UnassignApplicationRequest(tenantID: global.tenantID, applicationID: app, userID: user)
      let response = try await global.perform { try await $0.tenants.unassignApplication(request) }
      try global.output(response) { response.changed ? "unassigned \(user) from \(app)" : "\(user) was not assigned to \(app)" }
    }
  }
}
