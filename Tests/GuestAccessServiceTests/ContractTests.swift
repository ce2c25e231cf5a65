import GuestAccessClient
import Testing

/// What docs/PROTOCOL.md and the protos promise about tenants, paging and
/// invitations, checked against a live server.
@Suite("Contract")
struct ContractTests {
  /// ListInvitations answers newest first, across pages.
  @Test func listInvitationsNewestFirst() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      var created: [String] = []
      for index in 0..<5 {
        created.append(try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(
          invitedEmail: "g\(index)@outside.example")).invitation.id)
        try await Task.sleep(for: .milliseconds(2))
      }
      var seen: [String] = []
      var token = ""
      repeat {
        let page = try await contoso.adminClient.invitations.listInvitations(ListInvitationsRequest(pageSize: 2, pageToken: token))
        seen += page.invitations.map(\.id)
        token = page.nextPageToken
      } while !token.isEmpty
      #expect(seen == created.reversed())
      // ListCredentials too.
      for index in 0..<3 {
        _ = try await contoso.adminClient.tenants.issueCredential(IssueCredentialRequest(displayName: "k\(index)"))
        try await Task.sleep(for: .milliseconds(2))
      }
      let keys = try await contoso.adminClient.tenants.listCredentials(ListCredentialsRequest(pageSize: 2, userID: "self"))
      let rest = try await contoso.adminClient.tenants.listCredentials(ListCredentialsRequest(pageToken: keys.nextPageToken, userID: "self"))
      let names = (keys.credentials + rest.credentials).map(\.displayName)
      #expect(names == ["k2", "k1", "k0", "initial admin credential"])
    }
  }

  /// page_size above 1000 is clamped, not refused; negative is INVALID_ARGUMENT;
  /// a token that is not one, or is another listing's, is INVALID_ARGUMENT naming page_token.
  @Test func pageSizeAndTokens() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      #expect(try await admin.tenants.listUsers(ListUsersRequest(pageSize: 5000)).users.count == 1)
      #expect(try await admin.invitations.listInvitations(ListInvitationsRequest(pageSize: Int32.max)).invitations.isEmpty)
      await expectError(.invalidArgument) { try await admin.tenants.listUsers(ListUsersRequest(pageSize: -1)) }
      _ = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "A"))
      _ = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "B"))
      let groups = try await admin.tenants.listGroups(ListGroupsRequest(pageSize: 1))
      #expect(!groups.nextPageToken.isEmpty)
      for token in ["garbage!", groups.nextPageToken] {
        do {
          _ = try await admin.tenants.listUsers(ListUsersRequest(pageToken: token))
          Issue.record("a foreign page token was accepted")
        } catch let error as RPCError {
          #expect(error.code == .invalidArgument)
          #expect(error.reason == .invalidField)
          #expect(error.fieldViolations.map(\.field) == ["page_token"])
        }
      }
    }
  }

  /// The operator is no tenant user: every InvitationService call that needs
  /// a credential is PERMISSION_DENIED for it, also with a tenant_id.
  @Test func operatorIsRefusedByInvitationService() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "g@outside.example"))
      let op = server.operatorClient.invitations
      let id = created.invitation.id
      await expectError(.permissionDenied) { try await op.listInvitations(ListInvitationsRequest(tenantID: contoso.id)) }
      await expectError(.permissionDenied) { try await op.getInvitation(GetInvitationRequest(tenantID: contoso.id, invitationID: id)) }
      await expectError(.permissionDenied) { try await op.revokeInvitation(RevokeInvitationRequest(tenantID: contoso.id, invitationID: id)) }
      await expectError(.permissionDenied) { try await op.resendInvitation(ResendInvitationRequest(tenantID: contoso.id, invitationID: id)) }
      await expectError(.permissionDenied) {
        try await op.createInvitation(CreateInvitationRequest(tenantID: contoso.id, invitedEmail: "h@outside.example"))
      }
      await expectError(.permissionDenied) { try await op.createInvitation(CreateInvitationRequest(invitedEmail: "h@outside.example")) }
    }
  }

  /// A guest invited without a name is named after its address's local part.
  @Test func unnamedGuestIsNamedAfterTheLocalPart() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "Carol.Jones@Outside.Example"))
      let guest = try await contoso.adminClient.guests.getGuest(GetGuestRequest(userID: created.invitation.guestUserID))
      #expect(guest.displayName == "carol.jones")
    }
  }

  /// How a caller names the tenant it acts in: a guest with the `tenant`
  /// metadata (a request's tenant_id must then be empty or the same); a
  /// tenant_id alone names only the credential's own tenant; a member with
  /// no guest link gets NOT_A_GUEST; the operator's metadata is ignored and
  /// tenant-scoped operator calls need tenant_id.
  @Test func tenantIDAndTenantMetadata() async throws {
    try await withTestServer { server in
      let scenario = try await server.guestScenario()
      let contoso = scenario.contoso.id
      let home = server.client(scenario.giovanna.secret)
      #expect(try await scenario.asGuest.tenants.getTenant(GetTenantRequest()).id == contoso)
      #expect(try await scenario.asGuest.tenants.getTenant(GetTenantRequest(tenantID: contoso)).id == contoso)
      await expectError(.notFound, reason: .notFound) { try await home.tenants.getTenant(GetTenantRequest(tenantID: contoso)) }
      await expectError(.notFound, reason: .notFound) {
        try await scenario.asGuest.tenants.getTenant(GetTenantRequest(tenantID: scenario.proseware.id))
      }
      let member = try await scenario.proseware.makeUser("Ann", mail: "ann@proseware.com")
      await expectError(.permissionDenied, reason: .notAGuest) {
        try await server.client(member.secret, tenant: contoso).tenants.getTenant(GetTenantRequest())
      }
      let op = server.client(TestServer.operatorKey, tenant: contoso)
      #expect(try await op.tenants.listTenants(ListTenantsRequest()).tenants.count == 2)
      await expectError(.invalidArgument) { try await op.tenants.getTenant(GetTenantRequest()) }
      #expect(try await op.tenants.getTenant(GetTenantRequest(tenantID: contoso)).id == contoso)
    }
  }

  /// RedeemInvitation and CompleteRedemption need no authorization metadata.
  @Test func redemptionNeedsNoCredential() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let redeemed = try await server.passcodeGuest("dana@outside.example", in: contoso)
      #expect(redeemed.guest.externalUserState == .accepted)
      await expectError(.unauthenticated, reason: .credentialMissing) {
        try await server.client(nil).invitations.listInvitations(ListInvitationsRequest())
      }
    }
  }
}
