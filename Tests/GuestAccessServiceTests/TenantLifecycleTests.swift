import GuestAccessClient
import Testing

@Suite("TenantService: tenants, settings and cross-tenant access")
struct TenantLifecycleTests {
  @Test func createGetListUpdateDisableTenant() async throws {
    try await withTestServer { server in
      let op = server.operatorClient
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      #expect(contoso.tenant.state == .active)
      #expect(contoso.admin.roles == [.globalAdmin])
      #expect(contoso.secret.hasPrefix("gak_"))
      let fetched = try await contoso.adminClient.tenants.getTenant(GetTenantRequest())
      #expect(fetched == contoso.tenant)
      _ = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let page1 = try await op.tenants.listTenants(ListTenantsRequest(pageSize: 1))
      #expect(page1.tenants.count == 1)
      #expect(!page1.nextPageToken.isEmpty)
      let page2 = try await op.tenants.listTenants(ListTenantsRequest(pageSize: 1, pageToken: page1.nextPageToken))
      #expect(page2.tenants.count == 1)
      #expect(page2.tenants[0].id != page1.tenants[0].id)
      #expect(page2.nextPageToken.isEmpty)
      let byDomain = try await op.tenants.listTenants(ListTenantsRequest(verifiedDomain: "contoso.com"))
      #expect(byDomain.tenants.map(\.id) == [contoso.id])

      let renamed = try await contoso.adminClient.tenants.updateTenant(
        UpdateTenantRequest(displayName: "Contoso Ltd", updateMask: ["display_name"]))
      #expect(renamed.displayName == "Contoso Ltd")
      await expectError(.permissionDenied) {
        try await contoso.adminClient.tenants.updateTenant(UpdateTenantRequest(verifiedDomains: ["x.com"], updateMask: ["verified_domains"]))
      }
      await expectError(.alreadyExists, reason: .domainTaken) {
        try await op.tenants.updateTenant(UpdateTenantRequest(tenantID: contoso.id, verifiedDomains: ["fabrikam.com"], updateMask: ["verified_domains"]))
      }
      await expectError(.permissionDenied) { try await contoso.adminClient.tenants.disableTenant(DisableTenantRequest(tenantID: contoso.id)) }
      let disabled = try await op.tenants.disableTenant(DisableTenantRequest(tenantID: contoso.id))
      #expect(disabled.state == .disabled)
      await expectError(.permissionDenied, reason: .tenantDisabled) {
        try await contoso.adminClient.tenants.getTenant(GetTenantRequest())
      }
    }
  }

  @Test func createTenantValidatesInputAndIsIdempotent() async throws {
    try await withTestServer { server in
      let op = server.operatorClient
      await expectError(.invalidArgument) { try await op.tenants.createTenant(CreateTenantRequest(displayName: "", adminMail: "a@b.com")) }
      await expectError(.invalidArgument) { try await op.tenants.createTenant(CreateTenantRequest(displayName: "X", adminMail: "not-an-email")) }
      await expectError(.invalidArgument) {
        try await op.tenants.createTenant(CreateTenantRequest(displayName: "X", verifiedDomains: ["bad domain"], adminMail: "a@b.com"))
      }
      let request = CreateTenantRequest(idempotencyKey: "k1", displayName: "Contoso", verifiedDomains: ["contoso.com"], adminMail: "admin@contoso.com")
      let first = try await op.tenants.createTenant(request)
      let replay = try await op.tenants.createTenant(request)
      #expect(replay.tenant == first.tenant)
      #expect(replay.adminSecret.isEmpty)
      var changed = request
      changed.displayName = "Other"
      await expectError(.failedPrecondition, reason: .idempotencyKeyReused) { try await op.tenants.createTenant(changed) }
      await expectError(.alreadyExists, reason: .domainTaken) {
        try await op.tenants.createTenant(CreateTenantRequest(displayName: "Copy", verifiedDomains: ["contoso.com"], adminMail: "x@y.com"))
      }
    }
  }

  @Test func authenticationFailures() async throws {
    try await withTestServer { server in
      await expectError(.unauthenticated, reason: .credentialMissing) { try await server.client(nil).tenants.getTenant(GetTenantRequest()) }
      await expectError(.unauthenticated, reason: .credentialUnknown) {
        try await server.client("gak_wrong").tenants.getTenant(GetTenantRequest())
      }
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      await expectError(.permissionDenied) { try await contoso.adminClient.tenants.listTenants(ListTenantsRequest()) }
      let credential = try await contoso.adminClient.tenants.issueCredential(IssueCredentialRequest(displayName: "ci", expiresInSeconds: 60))
      let ci = server.client(credential.secret)
      _ = try await ci.tenants.getTenant(GetTenantRequest())
      server.clock.advance(seconds: 61)
      await expectError(.unauthenticated, reason: .credentialExpired) { try await ci.tenants.getTenant(GetTenantRequest()) }
      let other = try await contoso.adminClient.tenants.issueCredential(IssueCredentialRequest(displayName: "other"))
      _ = try await contoso.adminClient.tenants.revokeCredential(RevokeCredentialRequest(credentialID: other.credential.id))
      await expectError(.unauthenticated, reason: .credentialRevoked) { try await server.client(other.secret).tenants.getTenant(GetTenantRequest()) }
      let list = try await contoso.adminClient.tenants.listCredentials(ListCredentialsRequest())
      #expect(list.credentials.count == 3)
      #expect(list.credentials.allSatisfy { !$0.secretHint.isEmpty })
      #expect(Set(list.credentials.map(\.state)) == [.active, .expired, .revoked])
    }
  }

  @Test func settingsValidationAndDefaults() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let defaults = try await admin.tenants.getSettings(GetSettingsRequest())
      #expect(defaults.guestInvitePolicy == .everyone)
      #expect(defaults.guestAccessLevel == .limited)
      #expect(defaults.collaborationDomainMode == .allowAll)
      #expect(defaults.emailOtpMode == .enabled)
      #expect(defaults.defaultInvitationLifetimeDays == 7)
      #expect(defaults.invitationRateLimit == 1000)
      var update = TenantSettings()
      update.collaborationDomainMode = .allowList
      update.collaborationDomains = ["Proseware.com", "*.fabrikam.com"]
      update.defaultInvitationLifetimeDays = 14
      let changed = try await admin.tenants.updateSettings(UpdateSettingsRequest(
        settings: update, updateMask: ["collaboration_domain_mode", "collaboration_domains", "default_invitation_lifetime_days"]))
      #expect(changed.collaborationDomains == ["*.fabrikam.com", "proseware.com"])
      #expect(changed.defaultInvitationLifetimeDays == 14)
      #expect(changed.updatedBy == contoso.admin.id)
      await expectError(.invalidArgument) {
        try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: TenantSettings(defaultInvitationLifetimeDays: 31), updateMask: ["default_invitation_lifetime_days"]))
      }
      await expectError(.invalidArgument) {
        try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: TenantSettings(collaborationDomainMode: .allowAll), updateMask: ["collaboration_domain_mode"]))
      }
      await expectError(.invalidArgument) { try await admin.tenants.updateSettings(UpdateSettingsRequest(updateMask: ["nope"])) }
      await expectError(.invalidArgument) { try await admin.tenants.updateSettings(UpdateSettingsRequest()) }
      let member = try await contoso.makeUser("Ann", mail: "ann@contoso.com")
      _ = try await member.client.tenants.getSettings(GetSettingsRequest())
      await expectError(.permissionDenied) {
        try await member.client.tenants.updateSettings(UpdateSettingsRequest(settings: TenantSettings(emailOtpMode: .disabled), updateMask: ["email_otp_mode"]))
      }
    }
  }

  @Test func crossTenantAccessEntries() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let admin = contoso.adminClient
      var entry = CrossTenantAccessEntry(partnerTenantID: fabrikam.id)
      entry.inbound.usersAndGroups = CrossTenantAccessRule(accessType: .blocked)
      let stored = try await admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: entry))
      #expect(stored.updatedBy == contoso.admin.id)
      var defaultEntry = CrossTenantAccessEntry()
      defaultEntry.outbound.usersAndGroups = CrossTenantAccessRule(accessType: .allowed)
      _ = try await admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: defaultEntry))
      let policy = try await admin.tenants.getCrossTenantAccess(GetCrossTenantAccessRequest())
      #expect(policy.partners.map(\.partnerTenantID) == [fabrikam.id])
      #expect(policy.defaultEntry.outbound.usersAndGroups.accessType == .allowed)
      await expectError(.invalidArgument) {
        try await admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: CrossTenantAccessEntry(partnerTenantID: contoso.id)))
      }
      var bad = CrossTenantAccessEntry(partnerTenantID: fabrikam.id)
      bad.inbound.applications = CrossTenantAccessRule(targets: [CrossTenantAccessTarget(targetID: "app_1", targetType: .application)])
      await expectError(.invalidArgument) { try await admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: bad)) }
      _ = try await admin.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(entry: CrossTenantAccessEntry(partnerTenantID: fabrikam.id)))
      let after = try await admin.tenants.getCrossTenantAccess(GetCrossTenantAccessRequest())
      #expect(after.partners.isEmpty)
    }
  }
}
