import Foundation
import GuestAccessClient
import Testing

/// `guestctl idp …` and `settings set --redemption-order` against a real server.
@Suite("guestctl idp")
struct IdpCommandTests {
  @Test func addListGetUpdateRemove() async throws {
    try await withToolServer { server in
      let contoso = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--domain", "contoso.com", "--admin-mail", "admin@contoso.com",
        key: server.operatorKey)
      let admin = contoso.adminSecret
      let secretFile = server.workDir + "/client-secret"
      try "s3cret-from-file\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
      let added = try await server.guestctl(
        IdentityProvider.self, "idp", "add", "--use", "partner", "--name", "Proseware", "--issuer", "https://login.proseware.com/v2.0",
        "--client-id", "contoso-guests", "--client-secret-file", secretFile, "--domains", "proseware.com", key: admin)
      #expect(added.oidc.clientSecretSet && added.oidc.clientSecret.isEmpty)
      #expect(added.domains == ["proseware.com"])
      let list = try await server.guestctl("idp", "list", key: admin)
      #expect(list.status == 0 && list.stdout.contains(added.id) && !list.stdout.contains("s3cret"), "\(list)")
      let get = try await server.guestctl(IdentityProvider.self, "idp", "get", added.id, key: admin)
      #expect(get.oidc.clientSecretSet && get.oidc.clientSecret.isEmpty && get.oidc.issuer == "https://login.proseware.com/v2.0")
      let updated = try await server.guestctl(IdentityProvider.self, "idp", "update", added.id, "--algorithms", "RS256,ES256", key: admin)
      #expect(updated.oidc.allowedAlgorithms == ["RS256", "ES256"])
      let bad = try await server.guestctl("idp", "update", added.id, "--algorithms", "HS256", key: admin)
      #expect(bad.status != 0 && bad.stderr.contains("INVALID_ARGUMENT") && bad.stderr.contains("HMAC"), "\(bad)")
      let order = try await server.guestctl(TenantSettings.self, "settings", "set", "--redemption-order", "partner-provider,email-passcode", key: admin)
      #expect(order.redemptionOrder == [.partnerProvider, .emailPasscode])
      let removed = try await server.guestctl(IdentityProvider.self, "idp", "remove", added.id, key: admin)
      #expect(removed.id == added.id)
      let empty = try await server.guestctl(ListIdentityProvidersResponse.self, "idp", "list", key: admin)
      #expect(empty.providers.isEmpty)
    }
  }
}
