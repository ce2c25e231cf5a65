import GuestAccessClient
import Testing

/// Every TenantService call made with one tenant's credentials against the
/// other tenant's objects fails without revealing them.
@Suite("Tenant isolation")
struct TenantIsolationTests {
  @Test func noCallCrossesTenants() async throws {
    try await withTestServer { server in
      let a = try await server.makeTenant("Alpha", domain: "alpha.com")
      let b = try await server.makeTenant("Beta", domain: "beta.com")
      let bAdmin = b.adminClient
      let bUser = try await bAdmin.tenants.createUser(CreateUserRequest(displayName: "Bea", mail: "bea@beta.com"))
      let bGroup = try await bAdmin.tenants.createGroup(CreateGroupRequest(displayName: "B group"))
      let bApp = try await bAdmin.tenants.createApplication(CreateApplicationRequest(displayName: "B app"))
      let bKey = try await bAdmin.tenants.issueCredential(IssueCredentialRequest(userID: bUser.id))
      let aMember = try await a.makeUser("Al", mail: "al@alpha.com")
      let before = try await bAdmin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events.count

      for (name, client) in [("admin", a.adminClient), ("member", aMember.client)] {
        let t = client.tenants
        let calls: [(String, () async throws -> Any)] = [
          ("GetTenant", { try await t.getTenant(GetTenantRequest(tenantID: b.id)) }),
          ("UpdateTenant", { try await t.updateTenant(UpdateTenantRequest(tenantID: b.id, displayName: "X", updateMask: ["display_name"])) }),
          ("GetSettings", { try await t.getSettings(GetSettingsRequest(tenantID: b.id)) }),
          ("UpdateSettings", { try await t.updateSettings(UpdateSettingsRequest(tenantID: b.id, settings: TenantSettings(emailOtpMode: .disabled), updateMask: ["email_otp_mode"])) }),
          ("GetCrossTenantAccess", { try await t.getCrossTenantAccess(GetCrossTenantAccessRequest(tenantID: b.id)) }),
          ("SetCrossTenantAccess", { try await t.setCrossTenantAccess(SetCrossTenantAccessRequest(tenantID: b.id, entry: CrossTenantAccessEntry())) }),
          ("CreateUser", { try await t.createUser(CreateUserRequest(tenantID: b.id, displayName: "X", mail: "x@beta.com")) }),
          ("GetUser", { try await t.getUser(GetUserRequest(tenantID: b.id, userID: bUser.id)) }),
          ("GetUser own tenant, other id", { try await t.getUser(GetUserRequest(userID: bUser.id)) }),
          ("ListUsers", { try await t.listUsers(ListUsersRequest(tenantID: b.id)) }),
          ("UpdateUser", { try await t.updateUser(UpdateUserRequest(tenantID: b.id, userID: bUser.id, displayName: "X", updateMask: ["display_name"])) }),
          ("UpdateUser own tenant, other id", { try await t.updateUser(UpdateUserRequest(userID: bUser.id, displayName: "X", updateMask: ["display_name"])) }),
          ("DeleteUser", { try await t.deleteUser(DeleteUserRequest(tenantID: b.id, userID: bUser.id)) }),
          ("DeleteUser own tenant, other id", { try await t.deleteUser(DeleteUserRequest(userID: bUser.id)) }),
          ("SetRoles", { try await t.setRoles(SetRolesRequest(userID: bUser.id, roles: [])) }),
          ("CreateGroup", { try await t.createGroup(CreateGroupRequest(tenantID: b.id, displayName: "X")) }),
          ("ListGroups", { try await t.listGroups(ListGroupsRequest(tenantID: b.id)) }),
          ("AddGroupMember", { try await t.addGroupMember(AddGroupMemberRequest(groupID: bGroup.id, userID: bUser.id)) }),
          ("AddGroupMember own user", { try await t.addGroupMember(AddGroupMemberRequest(groupID: bGroup.id, userID: aMember.user.id)) }),
          ("RemoveGroupMember", { try await t.removeGroupMember(RemoveGroupMemberRequest(groupID: bGroup.id, userID: bUser.id)) }),
          ("CreateApplication", { try await t.createApplication(CreateApplicationRequest(tenantID: b.id, displayName: "X")) }),
          ("ListApplications", { try await t.listApplications(ListApplicationsRequest(tenantID: b.id)) }),
          ("AssignApplication", { try await t.assignApplication(AssignApplicationRequest(applicationID: bApp.id, userID: aMember.user.id)) }),
          ("UnassignApplication", { try await t.unassignApplication(UnassignApplicationRequest(applicationID: bApp.id, userID: bUser.id)) }),
          ("IssueCredential", { try await t.issueCredential(IssueCredentialRequest(tenantID: b.id, userID: bUser.id)) }),
          ("IssueCredential own tenant, other user", { try await t.issueCredential(IssueCredentialRequest(userID: bUser.id)) }),
          ("RevokeCredential", { try await t.revokeCredential(RevokeCredentialRequest(credentialID: bKey.credential.id)) }),
          ("ListCredentials", { try await t.listCredentials(ListCredentialsRequest(tenantID: b.id)) }),
          ("ListAuditEvents", { try await t.listAuditEvents(ListAuditEventsRequest(tenantID: b.id)) }),
          ("ListTenants", { try await t.listTenants(ListTenantsRequest()) }),
          ("DisableTenant", { try await t.disableTenant(DisableTenantRequest(tenantID: b.id)) }),
          ("CreateTenant", { try await t.createTenant(CreateTenantRequest(displayName: "X", adminMail: "x@x.com")) }),
        ]
        for (call, body) in calls {
          do {
            let result = try await body()
            // Only listings scoped to the caller's own tenant may succeed, and then must not show B's objects.
            let text = "\(result)"
            #expect(!text.contains(b.id) && !text.contains(bUser.id) && !text.contains(bGroup.id) && !text.contains(bApp.id),
                    "\(name) \(call) leaked another tenant's object: \(text.prefix(300))")
          } catch let error as RPCError {
            #expect([.notFound, .permissionDenied].contains(error.code), "\(name) \(call): \(error)")
            #expect(!error.message.contains("Beta") && !error.message.contains("bea@"), "\(name) \(call) leaked in message: \(error.message)")
          }
        }
      }
      // B is untouched.
      let after = try await bAdmin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events.count
      #expect(after == before)
      #expect(try await bAdmin.tenants.getUser(GetUserRequest(userID: bUser.id)).displayName == "Bea")
      _ = try await server.client(bKey.secret).tenants.getTenant(GetTenantRequest())
    }
  }
}
