import ArgumentParser
import GuestAccessClient

/// `guestctl user …`: the tenant's users (members, and guests as users).
struct UserCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "user", abstract: "Create, show, list, update and delete users; set roles.",
    subcommands: [Create.self, Get.self, List.self, Update.self, Delete.self, Roles.self])

  /// `user create NAME --mail M [--role R]`.
  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a member.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Display name.") var name: String
    @Option(help: "Email address.") var mail: String
    @Option(name: .customLong("role"), help: "A role (repeatable).") var roles: [Role] = []
    @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""

    mutating func run() async throws {
      let request = CreateUserRequest(tenantID: global.tenantID, idempotencyKey: idempotencyKey, displayName: name, mail: mail, roles: roles)
      let user = try await global.perform { try await $0.tenants.createUser(request) }
      try global.output(user) { DetailView.render(user) }
    }
  }

  /// `user get [ID]`.
  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a user, member or guest.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "User id.") var id: String

    mutating func run() async throws {
      let user = try await global.perform { try await $0.tenants.getUser(GetUserRequest(tenantID: global.tenantID, userID: id)) }
      try global.output(user) { DetailView.render(user) }
    }
  }

  /// `user list [--type T] [--group G] [--app A] [--mail M] [--role R]`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List users (removed guests are left out: see `guest list --removed`).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only members or guests.") var type: UserType?
    @Option(help: "Only members of this group.") var group: String = ""
    @Option(help: "Only users assigned to this application.") var app: String = ""
    @Option(help: "Only the user with this email.") var mail: String = ""
    @Option(help: "Only users holding this role.") var role: Role?

    mutating func run() async throws {
      let (tenantID, type, group, app, mail, role) = (global.tenantID, type ?? .unspecified, group, app, mail, role ?? .unspecified)
      let (users, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.tenants.listUsers(ListUsersRequest(
            tenantID: tenantID, pageSize: size, pageToken: token, userType: type, groupID: group, applicationID: app, mail: mail, role: role))
          return (response.users, response.nextPageToken)
        }
      }
      try global.output(ListUsersResponse(users: users, nextPageToken: next), next: next) {
        Table.users(users).render(empty: "no users")
      }
    }
  }

  /// `user update ID [--name N] [--mail M] [--enabled true|false]`.
  struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change a user's name, email or sign-in state.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "User id.") var id: String
    @Option(help: "New display name.") var name: String?
    @Option(help: "New email (members only).") var mail: String?
    @Option(help: ArgumentHelp("Allow (true) or block (false) sign-in.", valueName: "true|false")) var enabled: Bool?

    func validate() throws {
      guard name != nil || mail != nil || enabled != nil else { throw ValidationError("name something to change: --name, --mail or --enabled") }
    }

    mutating func run() async throws {
      var request = UpdateUserRequest(tenantID: global.tenantID, userID: id)
      if let name { request.displayName = name; request.updateMask.append("display_name") }
      if let mail { request.mail = mail; request.updateMask.append("mail") }
      if let enabled { request.accountEnabled = enabled; request.updateMask.append("account_enabled") }
      let user = try await global.perform { [request] in try await $0.tenants.updateUser(request) }
      try global.output(user) { DetailView.render(user) }
    }
  }

  /// `user delete ID`.
  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delete a user: a member for good (keys revoked, guest links elsewhere stop); a guest is removed (restorable).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "User id.") var id: String

    mutating func run() async throws {
      let user = try await global.perform { try await $0.tenants.deleteUser(DeleteUserRequest(tenantID: global.tenantID, userID: id)) }
      try global.output(user) { DetailView.render(user) }
    }
  }

  /// `user roles ID [ROLE …] [--clear]`.
  struct Roles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Replace a user's roles.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "User id.") var id: String
    @Argument(help: "The complete new set of roles.") var roles: [Role] = []
    @Flag(help: "Remove every role.") var clear = false

    func validate() throws {
      if roles.isEmpty && !clear { throw ValidationError("name the new roles, or --clear to remove them all") }
      if !roles.isEmpty && clear { throw ValidationError("give roles or --clear, not both") }
    }

    mutating func run() async throws {
      let request = SetRolesRequest(tenantID: global.tenantID, userID: id, roles: roles)
      let user = try await global.perform { try await $0.tenants.setRoles(request) }
      try global.output(user) { DetailView.render(user) }
    }
  }
}
