import ArgumentParser
import GuestAccessClient

/// `guestctl group …`: groups and their members.
struct GroupCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "group", abstract: "Create and list groups; add and remove members.",
    subcommands: [Create.self, List.self, Members.self, AddMember.self, RemoveMember.self])

  /// `group create NAME [--description D]`.
  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a group.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Display name.") var name: String
    @Option(help: "Free text.") var description: String = ""
    @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""

    mutating func run() async throws {
      let request = CreateGroupRequest(tenantID: global.tenantID, idempotencyKey: idempotencyKey, displayName: name, description: description)
      let group = try await global.perform { try await $0.tenants.createGroup(request) }
      try global.output(group) { DetailView.render(group) }
    }
  }

  /// `group list [--member USER]`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List groups.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only groups this user is a member of.") var member: String = ""

    mutating func run() async throws {
      let (tenantID, member) = (global.tenantID, member)
      let (groups, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.tenants.listGroups(
            ListGroupsRequest(tenantID: tenantID, pageSize: size, pageToken: token, memberUserID: member))
          return (response.groups, response.nextPageToken)
        }
      }
      try global.output(ListGroupsResponse(groups: groups, nextPageToken: next), next: next) {
        Table.groups(groups).render(empty: "no groups")
      }
    }
  }

  /// `group members GROUP`.
  struct Members: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a group's members.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Argument(help: "Group id.") var group: String

    mutating func run() async throws {
      let (tenantID, group) = (global.tenantID, group)
      let (users, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.tenants.listUsers(ListUsersRequest(tenantID: tenantID, pageSize: size, pageToken: token, groupID: group))
          return (response.users, response.nextPageToken)
        }
      }
      try global.output(ListUsersResponse(users: users, nextPageToken: next), next: next) {
        Table.users(users).render(empty: "no members")
      }
    }
  }

  /// `group add-member GROUP USER`.
  struct AddMember: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-member", abstract: "Add a user (member or guest) to a group.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group id.") var group: String
    @Argument(help: "User id.") var user: String

    mutating func run() async throws {
      let request = AddGroupMemberRequest(tenantID: global.tenantID, groupID: group, userID: user)
      let response = try await global.perform { try await $0.tenants.addGroupMember(request) }
      try global.output(response) { response.changed ? "added \(user) to \(group)" : "\(user) already was a member of \(group)" }
    }
  }

  /// `group remove-member GROUP USER`.
  struct RemoveMember: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove-member", abstract: "Remove a user from a group.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group id.") var group: String
    @Argument(help: "User id.") var user: String

    mutating func run() async throws {
      let request = RemoveGroupMemberRequest(tenantID: global.tenantID, groupID: group, userID: user)
      let response = try await global.perform { try await $0.tenants.removeGroupMember(request) }
      try global.output(response) { response.changed ? "removed \(user) from \(group)" : "\(user) was not a member of \(group)" }
    }
  }
}
