import GuestAccessClient
import Testing

@Suite("TenantService: users, groups, applications, credentials, audit")
struct DirectoryTests {
  @Test func usersAndRoles() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let ann = try await admin.tenants.createUser(CreateUserRequest(displayName: "Ann", mail: "Ann@Contoso.com"))
      #expect(ann.mail == "ann@contoso.com")
      #expect(ann.userType == .member)
      await expectError(.alreadyExists) { try await admin.tenants.createUser(CreateUserRequest(displayName: "Ann 2", mail: "ann@contoso.com")) }
      await expectError(.invalidArgument) { try await admin.tenants.createUser(CreateUserRequest(displayName: "X", mail: "a..b@contoso.com")) }
      await expectError(.invalidArgument) { try await admin.tenants.createUser(CreateUserRequest(displayName: String(repeating: "x", count: 300), mail: "x@contoso.com")) }
      let got = try await admin.tenants.getUser(GetUserRequest(userID: ann.id))
      #expect(got == ann)
      let bob = try await contoso.makeUser("Bob", mail: "bob@contoso.com", roles: [.userAdmin])
      // A USER_ADMIN cannot grant GLOBAL_ADMIN.
      await expectError(.permissionDenied) { try await bob.client.tenants.setRoles(SetRolesRequest(userID: ann.id, roles: [.globalAdmin])) }
      let inviter = try await bob.client.tenants.setRoles(SetRolesRequest(userID: ann.id, roles: [.guestInviter]))
      #expect(inviter.roles == [.guestInviter])
      // The last GLOBAL_ADMIN stays.
      await expectError(.failedPrecondition, reason: .lastGlobalAdmin) {
        try await admin.tenants.setRoles(SetRolesRequest(userID: contoso.admin.id, roles: []))
      }
      await expectError(.failedPrecondition, reason: .lastGlobalAdmin) {
        try await admin.tenants.deleteUser(DeleteUserRequest(userID: contoso.admin.id))
      }
      // A plain member may rename itself only.
      let annKey = try await admin.tenants.issueCredential(IssueCredentialRequest(userID: ann.id))
      let annClient = server.client(annKey.secret)
      #expect(try await annClient.tenants.getUser(GetUserRequest(userID: "self")).id == ann.id)
      let renamed = try await annClient.tenants.updateUser(UpdateUserRequest(userID: ann.id, displayName: "Ann B", updateMask: ["display_name"]))
      #expect(renamed.displayName == "Ann B")
      await expectError(.permissionDenied) {
        try await annClient.tenants.updateUser(UpdateUserRequest(userID: bob.user.id, displayName: "Nope", updateMask: ["display_name"]))
      }
      await expectError(.permissionDenied) { try await annClient.tenants.createUser(CreateUserRequest(displayName: "X", mail: "x@contoso.com")) }
      // Blocking sign-in stops the user's calls.
      _ = try await admin.tenants.updateUser(UpdateUserRequest(userID: ann.id, accountEnabled: false, updateMask: ["account_enabled"]))
      await expectError(.permissionDenied, reason: .signInBlocked) { try await annClient.tenants.getTenant(GetTenantRequest()) }
      // Listing pages through everyone in a stable order.
      var seen: [String] = []
      var token = ""
      repeat {
        let page = try await admin.tenants.listUsers(ListUsersRequest(pageSize: 2, pageToken: token))
        seen += page.users.map(\.id)
        token = page.nextPageToken
      } while !token.isEmpty
      #expect(seen.count == 3)
      #expect(seen == seen.sorted())
      let admins = try await admin.tenants.listUsers(ListUsersRequest(role: .userAdmin))
      #expect(admins.users.map(\.id) == [bob.user.id])
      #expect(try await admin.tenants.listUsers(ListUsersRequest(pageSize: 1001)).users.count == 3)
      await expectError(.invalidArgument) { try await admin.tenants.listUsers(ListUsersRequest(pageToken: "garbage!")) }
      // Deleting a member revokes its keys.
      let deleted = try await admin.tenants.deleteUser(DeleteUserRequest(userID: bob.user.id))
      #expect(deleted.deletedAt != 0)
      await expectError(.unauthenticated) { try await bob.client.tenants.getTenant(GetTenantRequest()) }
      await expectError(.notFound) { try await admin.tenants.getUser(GetUserRequest(userID: bob.user.id)) }
    }
  }

  @Test func groupsAndApplications() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let ann = try await contoso.makeUser("Ann", mail: "ann@contoso.com")
      let group = try await admin.tenants.createGroup(CreateGroupRequest(idempotencyKey: "g1", displayName: "Marketing", description: "Campaigns"))
      let again = try await admin.tenants.createGroup(CreateGroupRequest(idempotencyKey: "g1", displayName: "Marketing", description: "Campaigns"))
      #expect(again == group)
      #expect(try await admin.tenants.addGroupMember(AddGroupMemberRequest(groupID: group.id, userID: ann.user.id)).changed)
      #expect(try await !admin.tenants.addGroupMember(AddGroupMemberRequest(groupID: group.id, userID: ann.user.id)).changed)
      await expectError(.notFound) { try await admin.tenants.addGroupMember(AddGroupMemberRequest(groupID: "grp_nope", userID: ann.user.id)) }
      await expectError(.notFound) { try await admin.tenants.addGroupMember(AddGroupMemberRequest(groupID: group.id, userID: "usr_nope")) }
      let members = try await admin.tenants.listUsers(ListUsersRequest(groupID: group.id))
      #expect(members.users.map(\.id) == [ann.user.id])
      let annGroups = try await admin.tenants.listGroups(ListGroupsRequest(memberUserID: ann.user.id))
      #expect(annGroups.groups.map(\.id) == [group.id])
      #expect(try await admin.tenants.removeGroupMember(RemoveGroupMemberRequest(groupID: group.id, userID: ann.user.id)).changed)
      #expect(try await !admin.tenants.removeGroupMember(RemoveGroupMemberRequest(groupID: group.id, userID: ann.user.id)).changed)

      let app = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Payroll"))
      #expect(try await admin.tenants.assignApplication(AssignApplicationRequest(applicationID: app.id, userID: ann.user.id)).changed)
      let assigned = try await admin.tenants.listApplications(ListApplicationsRequest(assignedUserID: ann.user.id))
      #expect(assigned.applications.map(\.id) == [app.id])
      let users = try await admin.tenants.listUsers(ListUsersRequest(applicationID: app.id))
      #expect(users.users.map(\.id) == [ann.user.id])
      #expect(try await admin.tenants.unassignApplication(UnassignApplicationRequest(applicationID: app.id, userID: ann.user.id)).changed)
      await expectError(.permissionDenied) { try await ann.client.tenants.createGroup(CreateGroupRequest(displayName: "X")) }
      await expectError(.permissionDenied) {
        try await ann.client.tenants.assignApplication(AssignApplicationRequest(applicationID: app.id, userID: ann.user.id))
      }
      let listed = try await ann.client.tenants.listApplications(ListApplicationsRequest())
      #expect(listed.applications.map(\.id) == [app.id])
    }
  }

  @Test func auditLogRecordsEveryChangeAndStreams() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let initial = try await admin.tenants.listAuditEvents(ListAuditEventsRequest())
      #expect(initial.events.map(\.action) == [.tenantCreated, .userCreated, .credentialIssued])
      #expect(initial.events.allSatisfy { $0.actorType == .operator && $0.outcome == .success })
      let watcher = Task {
        try await admin.tenants.watchAuditEvents(WatchAuditEventsRequest(afterSequence: initial.events.last!.sequence)) { stream in
          var received: [AuditEvent] = []
          for try await event in stream {
            received.append(event)
            if received.count == 2 { break }
          }
          return received
        }
      }
      try await Task.sleep(for: .milliseconds(100))
      let ann = try await admin.tenants.createUser(CreateUserRequest(displayName: "Ann", mail: "ann@contoso.com"))
      _ = try await admin.tenants.setRoles(SetRolesRequest(userID: ann.id, roles: [.guestInviter]))
      let streamed = try await watcher.value
      #expect(streamed.map(\.action) == [.userCreated, .rolesChanged])
      #expect(streamed.allSatisfy { $0.actorID == contoso.admin.id && $0.targetID == ann.id })
      let filtered = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(actions: [.rolesChanged]))
      #expect(filtered.events.count == 1)
      let newest = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 2, newestFirst: true))
      #expect(newest.events.map(\.action) == [.rolesChanged, .userCreated])
      let older = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 2, pageToken: newest.nextPageToken, newestFirst: true))
      #expect(older.events.first!.sequence < newest.events.last!.sequence)
      let member = try await contoso.makeUser("Bob", mail: "bob@contoso.com")
      await expectError(.permissionDenied) { try await member.client.tenants.listAuditEvents(ListAuditEventsRequest()) }
    }
  }
}
