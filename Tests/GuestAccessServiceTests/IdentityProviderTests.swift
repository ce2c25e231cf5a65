import Foundation
import GuestAccessClient
import GuestAccessServer
import Testing

/// Identity providers per tenant through the RPC: admins only, validated,
/// audited, the client secret write-only; the redemption order setting.
@Suite("Identity providers")
struct IdentityProviderTests {
  static func partner(_ issuer: String = "https://login.proseware.com/v2.0", domains: [String] = ["proseware.com"]) -> IdentityProvider {
    IdentityProvider(
      displayName: "Proseware", kind: .openidConnect, use: .partner,
      oidc: OpenIDConnectSettings(issuer: issuer, clientID: "contoso-guests", clientSecret: "s3cret-never-shown"), domains: domains)
  }

  @Test func crudKeepsTheSecretWriteOnlyAndAudits() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let created = try await admin.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: Self.partner()))
      #expect(created.id.hasPrefix("idp_"))
      #expect(created.tenantID == contoso.tenant.id)
      #expect(created.oidc.clientSecret.isEmpty)
      #expect(created.oidc.clientSecretSet)
      #expect(created.oidc.scopes == ["openid", "email", "profile"])
      #expect(created.oidc.allowedAlgorithms == ["RS256"])
      #expect(created.oidc.emailClaim == "email")
      let listed = try await admin.tenants.listIdentityProviders(ListIdentityProvidersRequest())
      #expect(listed.providers.map(\.id) == [created.id])
      #expect(listed.providers.allSatisfy { $0.oidc.clientSecret.isEmpty })
      let fetched = try await admin.tenants.getIdentityProvider(GetIdentityProviderRequest(id: created.id))
      #expect(fetched.oidc.clientSecret.isEmpty && fetched.oidc.clientSecretSet)

      var change = IdentityProvider(id: created.id)
      change.displayName = "Proseware (Entra ID)"
      change.oidc.allowedAlgorithms = ["rs256", "ES256"]
      let updated = try await admin.tenants.updateIdentityProvider(
        UpdateIdentityProviderRequest(provider: change, updateMask: ["display_name", "oidc.allowed_algorithms"]))
      #expect(updated.displayName == "Proseware (Entra ID)")
      #expect(updated.oidc.allowedAlgorithms == ["RS256", "ES256"])
      #expect(updated.oidc.clientSecretSet, "the secret stays when the mask does not name it")
      #expect(updated.oidc.clientID == "contoso-guests")
      let cleared = try await admin.tenants.updateIdentityProvider(
        UpdateIdentityProviderRequest(provider: IdentityProvider(id: created.id), updateMask: ["oidc.client_secret"]))
      #expect(!cleared.oidc.clientSecretSet)

      let removed = try await admin.tenants.deleteIdentityProvider(DeleteIdentityProviderRequest(id: created.id))
      #expect(removed.id == created.id)
      await expectError(.notFound) { try await admin.tenants.getIdentityProvider(GetIdentityProviderRequest(id: created.id)) }

      // Audited, never with the secret.
      let events = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(
        actions: [.identityProviderCreated, .identityProviderUpdated, .identityProviderDeleted]))
      #expect(events.events.map(\.action) == [.identityProviderCreated, .identityProviderUpdated, .identityProviderUpdated, .identityProviderDeleted])
      let text = "\(events.events)"
      #expect(!text.contains("s3cret"))
      #expect(events.events[1].details.contains { $0.key == "fields" && $0.value == "display_name,oidc.allowed_algorithms" })
    }
  }

  @Test func theClientSecretIsStoredSealed() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      _ = try await contoso.adminClient.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: Self.partner()))
      for file in try FileManager.default.contentsOfDirectory(atPath: server.dataDir) where file.hasPrefix("guestaccess.sqlite") {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: server.dataDir + "/" + file))
        #expect(bytes.range(of: Data("s3cret-never-shown".utf8)) == nil, "\(file) holds the client secret in clear")
      }
    }
  }

  @Test func onlyAdminsAndOnlyInTheirTenant() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let created = try await contoso.adminClient.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: Self.partner()))
      let member = try await contoso.makeUser("Member", mail: "member@contoso.com")
      let userAdmin = try await contoso.makeUser("User Admin", mail: "ua@contoso.com", roles: [.userAdmin])
      await expectError(.permissionDenied) {
        try await member.client.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: Self.partner("https://other.example")))
      }
      await expectError(.permissionDenied) { try await member.client.tenants.listIdentityProviders(ListIdentityProvidersRequest()) }
      // USER_ADMIN reads but does not change.
      #expect(try await userAdmin.client.tenants.listIdentityProviders(ListIdentityProvidersRequest()).providers.count == 1)
      await expectError(.permissionDenied) {
        try await userAdmin.client.tenants.deleteIdentityProvider(DeleteIdentityProviderRequest(id: created.id))
      }
      // Another tenant's admin: not found, in its own tenant or naming Contoso.
      await expectError(.notFound) { try await fabrikam.adminClient.tenants.getIdentityProvider(GetIdentityProviderRequest(id: created.id)) }
      await expectError(.notFound) {
        try await fabrikam.adminClient.tenants.deleteIdentityProvider(DeleteIdentityProviderRequest(id: created.id))
      }
      await expectError(.notFound) {
        try await fabrikam.adminClient.tenants.listIdentityProviders(ListIdentityProvidersRequest(tenantID: contoso.tenant.id))
      }
      // The operator names the tenant.
      let operatorView = try await server.operatorClient.tenants.listIdentityProviders(ListIdentityProvidersRequest(tenantID: contoso.tenant.id))
      #expect(operatorView.providers.map(\.id) == [created.id])
    }
  }

  @Test func badFieldsAndConflicts() async throws {
    try await withTestServer { server in
      let admin = try await server.makeTenant("Contoso", domain: "contoso.com").adminClient
      func create(_ provider: IdentityProvider) async throws -> IdentityProvider {
        try await admin.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: provider))
      }
      await expectError(.invalidArgument, reason: .invalidField) { try await create(Self.partner("http://login.proseware.com")) }
      await expectError(.invalidArgument) { try await create(Self.partner("http://127.0.0.1:9000")) }  // no --oidc-allow-http-loopback
      await expectError(.invalidArgument) { try await create(Self.partner("https://login.proseware.com/?tenant=x")) }
      var none = Self.partner()
      none.oidc.allowedAlgorithms = ["none"]
      await expectError(.invalidArgument) { try await create(none) }
      var hmac = Self.partner()
      hmac.oidc.allowedAlgorithms = ["HS256"]
      await expectError(.invalidArgument) { try await create(hmac) }
      await expectError(.invalidArgument) { try await create(Self.partner(domains: [])) }
      var membersWithDomains = Self.partner()
      membersWithDomains.use = .members
      await expectError(.invalidArgument) { try await create(membersWithDomains) }
      var noUse = Self.partner()
      noUse.use = .unspecified
      await expectError(.invalidArgument) { try await create(noUse) }

      _ = try await create(Self.partner())
      await expectError(.alreadyExists, reason: .identityProviderConflict) { try await create(Self.partner()) }  // same issuer
      await expectError(.alreadyExists, reason: .identityProviderConflict) {
        try await create(Self.partner("https://other.proseware.com", domains: ["PROSEWARE.com"]))  // same domain
      }
      var members = Self.partner("https://login.contoso.com")
      members.use = .members
      members.domains = []
      _ = try await create(members)
      members.oidc.issuer = "https://login2.contoso.com"
      await expectError(.alreadyExists, reason: .identityProviderConflict) { try await create(members) }
    }
  }

  @Test func plainHTTPLoopbackIssuerOnlyBehindTheFlag() async throws {
    try await withTestServer(configure: { $0.oidcAllowHTTPLoopback = true }) { server in
      let admin = try await server.makeTenant("Contoso", domain: "contoso.com").adminClient
      let local = try await admin.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: Self.partner("http://127.0.0.1:9000")))
      #expect(local.oidc.issuer == "http://127.0.0.1:9000")
      await expectError(.invalidArgument) {
        try await admin.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: Self.partner("http://idp.example:9000", domains: ["x.example"])))
      }
    }
  }

  @Test func redemptionOrderSetting() async throws {
    try await withTestServer { server in
      let admin = try await server.makeTenant("Contoso", domain: "contoso.com").adminClient
      let defaults = try await admin.tenants.getSettings(GetSettingsRequest())
      #expect(defaults.redemptionOrder == [.homeTenant, .partnerProvider, .emailPasscode])
      let changed = try await admin.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(redemptionOrder: [.partnerProvider, .emailPasscode]), updateMask: ["redemption_order"]))
      #expect(changed.redemptionOrder == [.partnerProvider, .emailPasscode])
      await expectError(.invalidArgument) {
        try await admin.tenants.updateSettings(UpdateSettingsRequest(
          settings: TenantSettings(redemptionOrder: [.emailPasscode, .emailPasscode]), updateMask: ["redemption_order"]))
      }
      await expectError(.invalidArgument) {
        try await admin.tenants.updateSettings(UpdateSettingsRequest(
          settings: TenantSettings(redemptionOrder: [.unspecified]), updateMask: ["redemption_order"]))
      }
      let reset = try await admin.tenants.updateSettings(UpdateSettingsRequest(settings: TenantSettings(), updateMask: ["redemption_order"]))
      #expect(reset.redemptionOrder == [.homeTenant, .partnerProvider, .emailPasscode])
    }
  }
}
