import GuestAccessClient
import Testing

@Suite("GuestService: CheckAccess, cross-tenant rules, guest access levels")
struct GuestAccessCheckTests {
  /// Contoso with an application and a group Giovanna was granted, and one of each she was not.
  struct Resources {
    let app: Application
    let otherApp: Application
    let group: Group
    let otherGroup: Group
  }

  func scenario(_ server: TestServer) async throws -> (GuestScenario, Resources) {
    let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
    let admin = contoso.adminClient
    let resources = Resources(
      app: try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Planner")),
      otherApp: try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Payroll")),
      group: try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Marketing")),
      otherGroup: try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Finance")))
    let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
    let giovanna = try await proseware.makeUser("Giovanna", mail: "gcarvalho@proseware.com")
    let guest = try await server.redeemedGuest(
      of: giovanna, in: contoso, grants: InvitationGrants(groupIDs: [resources.group.id], applicationIDs: [resources.app.id]))
    return (GuestScenario(server: server, proseware: proseware, contoso: contoso, giovanna: giovanna, guest: guest), resources)
  }

  @Test func answersWithReasons() async throws {
    try await withTestServer { server in
      let (s, r) = try await scenario(server)
      func check(_ principal: String, _ resource: String, _ type: DirectoryObjectType = .unspecified, as client: GuestAccessClient? = nil)
        async throws -> CheckAccessResponse
      {
        try await (client ?? s.admin).guests.checkAccess(CheckAccessRequest(principalUserID: principal, resourceID: resource, resourceType: type))
      }
      let assigned = try await check(s.guest.id, r.app.id)
      #expect(assigned == CheckAccessResponse(allowed: true, reason: .applicationAssigned, principalUserID: s.guest.id, resourceType: .application))
      #expect(try await check(s.guest.id, r.group.id) == CheckAccessResponse(
        allowed: true, reason: .groupMember, principalUserID: s.guest.id, resourceType: .group))
      #expect(try await check(s.guest.id, r.otherApp.id, .application).reason == .notAssigned)
      #expect(try await check(s.guest.id, r.otherGroup.id, .group).reason == .notGroupMember)
      // Members are checked too (no guest rules apply to them).
      let ann = try await s.contoso.makeUser("Ann", mail: "ann@contoso.com")
      #expect(try await check(ann.user.id, r.app.id).reason == .notAssigned)
      _ = try await s.admin.tenants.assignApplication(AssignApplicationRequest(applicationID: r.app.id, userID: ann.user.id))
      #expect(try await check("self", r.app.id, as: ann.client) == CheckAccessResponse(
        allowed: true, reason: .applicationAssigned, principalUserID: ann.user.id, resourceType: .application))
      // Any member may check anyone; a guest only itself.
      #expect(try await check(s.guest.id, r.app.id, as: ann.client).allowed)
      let mine = try await check("self", r.app.id, as: s.asGuest)
      #expect(mine.allowed && mine.principalUserID == s.guest.id)
      #expect(try await check(s.guest.id, r.otherApp.id, as: s.asGuest).reason == .notAssigned)
      await expectError(.permissionDenied) { try await check(ann.user.id, r.app.id, as: s.asGuest) }
      // Unknown principals and resources, and a kind that does not match: NOT_FOUND; other kinds are invalid.
      await expectError(.notFound) { try await check("usr_unknown", r.app.id) }
      await expectError(.notFound) { try await check(s.guest.id, "app_unknown") }
      await expectError(.notFound) { try await check(s.guest.id, r.app.id, .group) }
      await expectError(.notFound) { try await check(s.giovanna.user.id, r.app.id) }
      await expectError(.invalidArgument) { try await check(s.guest.id, r.app.id, .user) }
      await expectError(.permissionDenied) {
        try await server.operatorClient.guests.checkAccess(CheckAccessRequest(tenantID: s.contoso.id, principalUserID: s.guest.id, resourceID: r.app.id))
      }

      // The guest-state denials, each while the resource is still assigned.
      _ = try await s.proseware.adminClient.tenants.updateUser(UpdateUserRequest(
        userID: s.giovanna.user.id, accountEnabled: false, updateMask: ["account_enabled"]))
      #expect(try await check(s.guest.id, r.app.id) == CheckAccessResponse(
        allowed: false, reason: .homeAccountDisabled, principalUserID: s.guest.id, resourceType: .application))
      _ = try await s.proseware.adminClient.tenants.updateUser(UpdateUserRequest(
        userID: s.giovanna.user.id, accountEnabled: true, updateMask: ["account_enabled"]))
      _ = try await s.admin.guests.updateGuest(UpdateGuestRequest(
        userID: s.guest.id, accessExpiresAt: server.clock.nowMillis() + 1000, updateMask: ["access_expires_at"]))
      #expect(try await check(s.guest.id, r.app.id).allowed)
      server.clock.advance(seconds: 1)
      #expect(try await check(s.guest.id, r.app.id).reason == .accessExpired)
      _ = try await s.admin.guests.blockSignIn(BlockSignInRequest(userID: s.guest.id))
      #expect(try await check(s.guest.id, r.app.id).reason == .signInBlocked)
      let pending = try await server.pendingGuest("lee@fabrikam.example", in: s.contoso)
      _ = try await s.admin.tenants.addGroupMember(AddGroupMemberRequest(groupID: r.group.id, userID: pending.guest.id))
      #expect(try await check(pending.guest.id, r.group.id).reason == .pendingAcceptance)
      _ = try await s.admin.guests.removeGuest(RemoveGuestRequest(userID: s.guest.id))
      #expect(try await check(s.guest.id, r.app.id).reason == .guestRemoved)
    }
  }

  @Test func crossTenantRulesBlockChecksAndCalls() async throws {
    try await withTestServer { server in
      let (s, r) = try await scenario(server)
      _ = try await s.admin.tenants.assignApplication(AssignApplicationRequest(applicationID: r.otherApp.id, userID: s.guest.id))
      func reason(_ app: Application) async throws -> AccessCheckReason {
        try await s.admin.guests.checkAccess(CheckAccessRequest(principalUserID: s.guest.id, resourceID: app.id)).reason
      }
      // Contoso's inbound rules block Proseware's users: checks say so and her calls fail.
      let inboundUsers = CrossTenantAccessEntry(
        partnerTenantID: s.proseware.id,
        inbound: CrossTenantAccessRules(usersAndGroups: CrossTenantAccessRule(accessType: .blocked)))
      _ = try await s.admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: inboundUsers))
      #expect(try await reason(r.app) == .crossTenantInboundBlocked)
      let groupCheck = try await s.admin.guests.checkAccess(CheckAccessRequest(principalUserID: s.guest.id, resourceID: r.group.id))
      #expect(!groupCheck.allowed && groupCheck.reason == .crossTenantInboundBlocked)
      await expectError(.permissionDenied, reason: .crossTenantBlocked) {
        try await s.asGuest.guests.checkAccess(CheckAccessRequest(principalUserID: "self", resourceID: r.app.id))
      }
      await expectError(.permissionDenied, reason: .crossTenantBlocked) { try await s.asGuest.guests.getGuest(GetGuestRequest(userID: "self")) }
      // Inbound application rules: only the Planner is open to Proseware's guests.
      let inboundApps = CrossTenantAccessEntry(
        partnerTenantID: s.proseware.id,
        inbound: CrossTenantAccessRules(applications: CrossTenantAccessRule(
          accessType: .allowed, targets: [CrossTenantAccessTarget(targetID: r.app.id, targetType: .application)])))
      _ = try await s.admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: inboundApps))
      #expect(try await reason(r.app) == .applicationAssigned)
      #expect(try await reason(r.otherApp) == .crossTenantInboundBlocked)
      let own = try await s.asGuest.guests.checkAccess(CheckAccessRequest(principalUserID: "self", resourceID: r.otherApp.id))
      #expect(!own.allowed && own.reason == .crossTenantInboundBlocked)
      _ = try await s.admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: CrossTenantAccessEntry(partnerTenantID: s.proseware.id)))
      #expect(try await reason(r.otherApp) == .applicationAssigned)
      // Proseware's outbound rules: Payroll of Contoso is off limits, then all of Contoso.
      let outboundApps = CrossTenantAccessEntry(
        partnerTenantID: s.contoso.id,
        outbound: CrossTenantAccessRules(applications: CrossTenantAccessRule(
          accessType: .blocked, targets: [CrossTenantAccessTarget(targetID: r.otherApp.id, targetType: .application)])))
      _ = try await s.proseware.adminClient.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: outboundApps))
      #expect(try await reason(r.app) == .applicationAssigned)
      #expect(try await reason(r.otherApp) == .crossTenantOutboundBlocked)
      let outboundUsers = CrossTenantAccessEntry(
        partnerTenantID: s.contoso.id,
        outbound: CrossTenantAccessRules(usersAndGroups: CrossTenantAccessRule(
          accessType: .blocked, targets: [CrossTenantAccessTarget(targetID: s.giovanna.user.id, targetType: .user)])))
      _ = try await s.proseware.adminClient.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: outboundUsers))
      #expect(try await reason(r.app) == .crossTenantOutboundBlocked)
      await expectError(.permissionDenied, reason: .crossTenantBlocked) { try await s.asGuest.tenants.getTenant(GetTenantRequest()) }
      // Inbound is reported before outbound.
      _ = try await s.admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: inboundUsers))
      #expect(try await reason(r.app) == .crossTenantInboundBlocked)
    }
  }

  @Test func guestAccessLevelsAsSeenByAGuest() async throws {
    try await withTestServer { server in
      let (s, r) = try await scenario(server)
      let ann = try await s.contoso.makeUser("Ann", mail: "ann@contoso.com")
      let bob = try await s.contoso.makeUser("Bob", mail: "bob@contoso.com")
      _ = try await s.admin.tenants.addGroupMember(AddGroupMemberRequest(groupID: r.group.id, userID: ann.user.id))
      let lee = try await server.pendingGuest("lee@fabrikam.example", in: s.contoso)
      func users() async throws -> [User] { try await s.asGuest.tenants.listUsers(ListUsersRequest()).users }
      func groups() async throws -> [String] { try await s.asGuest.tenants.listGroups(ListGroupsRequest()).groups.map(\.id) }

      // LIMITED (the default): herself, and the ids and names of her groups' members.
      let limited = try await users()
      #expect(Set(limited.map(\.id)) == [s.guest.id, ann.user.id])
      let annSeen = limited.first { $0.id == ann.user.id }
      #expect(annSeen?.displayName == "Ann" && annSeen?.mail == "")
      #expect(limited.first { $0.id == s.guest.id }?.mail == "gcarvalho@proseware.com")
      #expect(try await groups() == [r.group.id])
      #expect(try await s.asGuest.tenants.listApplications(ListApplicationsRequest()).applications.map(\.id) == [r.app.id])
      await expectError(.notFound) { try await s.asGuest.tenants.getUser(GetUserRequest(userID: bob.user.id)) }
      await expectError(.notFound) { try await s.asGuest.guests.getGuest(GetGuestRequest(userID: lee.guest.id)) }
      await expectError(.permissionDenied) { try await s.asGuest.guests.listGuests(ListGuestsRequest()) }

      // RESTRICTED: only herself.
      try await s.contoso.setGuestAccessLevel(.restricted)
      #expect(try await users().map(\.id) == [s.guest.id])
      #expect(try await groups().isEmpty)
      await expectError(.notFound) { try await s.asGuest.tenants.getUser(GetUserRequest(userID: ann.user.id)) }
      #expect(try await s.asGuest.guests.getGuest(GetGuestRequest(userID: "self")).id == s.guest.id)

      // SAME_AS_MEMBERS: what members see.
      try await s.contoso.setGuestAccessLevel(.sameAsMembers)
      #expect(try await users().count == 5)
      #expect(Set(try await groups()) == [r.group.id, r.otherGroup.id])
      #expect(try await s.asGuest.tenants.getUser(GetUserRequest(userID: bob.user.id)).mail == "bob@contoso.com")
      #expect(try await s.asGuest.guests.getGuest(GetGuestRequest(userID: lee.guest.id)).mail == "lee@fabrikam.example")
      #expect(try await s.asGuest.guests.listGuests(ListGuestsRequest()).guests.count == 2)
    }
  }
}
