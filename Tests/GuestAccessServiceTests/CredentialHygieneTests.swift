import Foundation
import GuestAccessClient
import Testing

/// Key hygiene through the RPC against a real server: a tenant's maximum key
/// lifetime, rotation with a grace period, operator key rotation and the
/// retirement of the bootstrap `operator.key` — each tried as another tenant's
/// admin or a plain member would.
@Suite struct CredentialHygieneTests {
  private static let day: Int64 = 86_400

  @Test func maximumLifetimeCapsNewKeysAndRefusesOlderOnes() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let member = try await contoso.makeUser("Mia", mail: "mia@contoso.com")
      // Only GLOBAL_ADMIN sets it, within 0 to 3650 days; another tenant's admin cannot name this tenant.
      await expectError(.permissionDenied) {
        try await member.client.tenants.updateSettings(UpdateSettingsRequest(
          settings: TenantSettings(maxCredentialLifetimeDays: 1), updateMask: ["max_credential_lifetime_days"]))
      }
      await expectError(.notFound) {
        try await fabrikam.adminClient.tenants.updateSettings(UpdateSettingsRequest(
          tenantID: contoso.id, settings: TenantSettings(maxCredentialLifetimeDays: 1), updateMask: ["max_credential_lifetime_days"]))
      }
      await expectError(.invalidArgument) {
        try await contoso.adminClient.tenants.updateSettings(UpdateSettingsRequest(
          settings: TenantSettings(maxCredentialLifetimeDays: 3651), updateMask: ["max_credential_lifetime_days"]))
      }
      // Keys from before the setting: no expiry. Used once, so authentication has cached them.
      _ = try await member.client.tenants.getTenant(GetTenantRequest())
      let settings = try await contoso.adminClient.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(maxCredentialLifetimeDays: 30), updateMask: ["max_credential_lifetime_days"]))
      #expect(settings.maxCredentialLifetimeDays == 30)
      let now = server.clock.nowMillis()
      // New keys: asked for no expiry or for longer, they get the maximum; shorter is kept.
      let forever = try await contoso.adminClient.tenants.issueCredential(IssueCredentialRequest(userID: member.user.id))
      #expect(forever.credential.expiresAt == now + 30 * Self.day * 1000)
      let long = try await member.client.tenants.issueCredential(IssueCredentialRequest(expiresInSeconds: 100 * Self.day))
      #expect(long.credential.expiresAt == now + 30 * Self.day * 1000)
      let short = try await member.client.tenants.issueCredential(IssueCredentialRequest(expiresInSeconds: 2 * Self.day))
      #expect(short.credential.expiresAt == now + 2 * Self.day * 1000)
      // The key an email passcode redemption issues gets the maximum too.
      let passcode = try await server.passcodeGuest("pat@partner.example", in: contoso)
      let guestKeys = try await contoso.adminClient.tenants.listCredentials(ListCredentialsRequest(userID: passcode.guest.id))
      #expect(guestKeys.credentials.map(\.expiresAt) == [now + 30 * Self.day * 1000])
      // The older keys now list with the maximum as their expiry.
      let listed = try await contoso.adminClient.tenants.listCredentials(ListCredentialsRequest(userID: member.user.id))
      let old = try #require(listed.credentials.first { $0.secretHint == String(member.secret.prefix(8)) })
      #expect(old.expiresAt == old.createdAt + 30 * Self.day * 1000)
      #expect(old.state == .active)

      server.clock.advance(seconds: 30 * Self.day + 1)
      // Past the maximum: the old keys (the cached one too) are refused, in this tenant only.
      await expectError(.unauthenticated, reason: .credentialExpired) { try await member.client.tenants.getTenant(GetTenantRequest()) }
      await expectError(.unauthenticated, reason: .credentialExpired) { try await contoso.adminClient.tenants.getTenant(GetTenantRequest()) }
      _ = try await fabrikam.adminClient.tenants.getTenant(GetTenantRequest())
      let expired = try await server.operatorClient.tenants.listCredentials(
        ListCredentialsRequest(tenantID: contoso.id, state: .expired))
      #expect(Set(expired.credentials.map(\.secretHint)).isSuperset(of: [String(member.secret.prefix(8)), String(contoso.secret.prefix(8))]))
      // A key issued now (by the operator) works again for its own 30 days.
      let fresh = try await server.operatorClient.tenants.issueCredential(IssueCredentialRequest(tenantID: contoso.id, userID: member.user.id))
      #expect(fresh.credential.expiresAt == server.clock.nowMillis() + 30 * Self.day * 1000)
      let client = server.client(fresh.secret)
      defer { client.close() }
      _ = try await client.tenants.getTenant(GetTenantRequest())
    }
  }

  @Test func rotationKeepsTheOldKeyForTheGracePeriodThenRevokesIt() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let member = try await contoso.makeUser("Mia", mail: "mia@contoso.com")
      let other = try await contoso.makeUser("Oscar", mail: "oscar@contoso.com")
      let userAdmin = try await contoso.makeUser("Uma", mail: "uma@contoso.com", roles: [.userAdmin])
      let keys = try await member.client.tenants.listCredentials(ListCredentialsRequest(userID: "self"))
      let oldID = try #require(keys.credentials.first?.id)

      // Who may not: another tenant's admin (naming either tenant), another member, a USER_ADMIN for a GLOBAL_ADMIN's key.
      await expectError(.notFound) { try await fabrikam.adminClient.tenants.rotateCredential(RotateCredentialRequest(credentialID: oldID)) }
      await expectError(.notFound) {
        try await fabrikam.adminClient.tenants.rotateCredential(RotateCredentialRequest(tenantID: contoso.id, credentialID: oldID))
      }
      await expectError(.permissionDenied) { try await other.client.tenants.rotateCredential(RotateCredentialRequest(credentialID: oldID)) }
      let adminKeys = try await contoso.adminClient.tenants.listCredentials(ListCredentialsRequest(userID: "self"))
      await expectError(.permissionDenied) {
        try await userAdmin.client.tenants.rotateCredential(RotateCredentialRequest(credentialID: adminKeys.credentials[0].id))
      }
      await expectError(.invalidArgument) {
        try await member.client.tenants.rotateCredential(RotateCredentialRequest(credentialID: oldID, gracePeriodSeconds: 31 * Self.day))
      }

      // The owner rotates its key with a one-hour grace period: both keys work meanwhile.
      let request = RotateCredentialRequest(idempotencyKey: "rotate-1", credentialID: oldID, gracePeriodSeconds: 3600)
      let rotated = try await member.client.tenants.rotateCredential(request)
      #expect(rotated.secret.hasPrefix("gak_"))
      #expect(rotated.credential.replaces == oldID)
      #expect(rotated.credential.userID == member.user.id)
      #expect(rotated.replaced.replacedBy == rotated.credential.id)
      #expect(rotated.replaced.revokeAt == server.clock.nowMillis() + 3_600_000)
      #expect(rotated.replaced.state == .active)
      let replay = try await member.client.tenants.rotateCredential(request)
      #expect(replay.credential.id == rotated.credential.id)
      #expect(replay.secret.isEmpty)
      await expectError(.failedPrecondition, reason: .credentialAlreadyRotated) {
        try await contoso.adminClient.tenants.rotateCredential(RotateCredentialRequest(credentialID: oldID))
      }
      let newClient = server.client(rotated.secret)
      defer { newClient.close() }
      _ = try await member.client.tenants.getTenant(GetTenantRequest())
      _ = try await newClient.tenants.getTenant(GetTenantRequest())

      // After the grace period: the old key is refused as revoked and listed REVOKED; the new one works.
      server.clock.advance(seconds: 3601)
      await expectError(.unauthenticated, reason: .credentialRevoked) { try await member.client.tenants.getTenant(GetTenantRequest()) }
      _ = try await newClient.tenants.getTenant(GetTenantRequest())
      let revoked = try await contoso.adminClient.tenants.listCredentials(ListCredentialsRequest(userID: member.user.id, state: .revoked))
      #expect(revoked.credentials.map(\.id) == [oldID])
      await expectError(.failedPrecondition, reason: .credentialAlreadyRotated) {
        try await contoso.adminClient.tenants.rotateCredential(RotateCredentialRequest(credentialID: oldID))
      }
      let events = try await contoso.adminClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 100, actions: [.credentialRotated]))
      #expect(events.events.map(\.targetID) == [oldID])

      // An admin rotates a member's expiring key: the new key lives as long as the old one did.
      let expiring = try await contoso.adminClient.tenants.issueCredential(IssueCredentialRequest(
        userID: other.user.id, displayName: "reports", expiresInSeconds: 10 * Self.day))
      let byAdmin = try await contoso.adminClient.tenants.rotateCredential(RotateCredentialRequest(credentialID: expiring.credential.id))
      #expect(byAdmin.credential.expiresAt == server.clock.nowMillis() + 10 * Self.day * 1000)
      #expect(byAdmin.credential.displayName == "reports")
      #expect(byAdmin.replaced.revokeAt == server.clock.nowMillis() + Self.day * 1000)
      // A revoked key cannot be rotated.
      _ = try await contoso.adminClient.tenants.revokeCredential(RevokeCredentialRequest(credentialID: byAdmin.credential.id))
      await expectError(.failedPrecondition, reason: .credentialNotActive) {
        try await contoso.adminClient.tenants.rotateCredential(RotateCredentialRequest(credentialID: byAdmin.credential.id))
      }
    }
  }

  /// A server without a configured operator key (so it writes `operator.key`), in `dataDir`;
  /// `body` gets it, the key file's path and a client with the bootstrap key.
  private func withBootstrapServer(
    dataDir: String, _ body: (TestServer, String, GuestAccessClient) async throws -> Void
  ) async throws {
    let keyPath = dataDir + "/operator.key"
    try await withTestServer(dataDir: dataDir, configure: { $0.operatorKey = nil }) { server in
      let bootstrapKey = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
      let bootstrap = server.client(bootstrapKey)
      defer { bootstrap.close() }
      try await body(server, keyPath, bootstrap)
    }
  }

  @Test func theOperatorRotatesItsKeysAndRetiresTheBootstrapKey() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-retire-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let keyPath = dataDir + "/operator.key"
    try await withBootstrapServer(dataDir: dataDir) { server, keyPath, bootstrap in
      // The only operator key cannot be retired; a tenant admin cannot retire it at all.
      await expectError(.failedPrecondition, reason: .lastOperatorCredential) {
        try await bootstrap.tenants.retireBootstrapCredential(RetireBootstrapCredentialRequest())
      }
      #expect(FileManager.default.fileExists(atPath: keyPath))
      let created = try await bootstrap.tenants.createTenant(CreateTenantRequest(
        displayName: "Contoso", verifiedDomains: ["contoso.com"], adminMail: "admin@contoso.com"))
      let admin = server.client(created.adminSecret)
      defer { admin.close() }
      await expectError(.permissionDenied) { try await admin.tenants.retireBootstrapCredential(RetireBootstrapCredentialRequest()) }

      // A second operator key, then the bootstrap one retired with it: revoked, and the file gone.
      let second = try await bootstrap.tenants.issueCredential(IssueCredentialRequest(principalType: .operator, displayName: "ops"))
      let operatorClient = server.client(second.secret)
      defer { operatorClient.close() }
      await expectError(.invalidArgument) {
        try await operatorClient.tenants.retireBootstrapCredential(RetireBootstrapCredentialRequest(reason: "a\nb"))
      }
      let retired = try await operatorClient.tenants.retireBootstrapCredential(RetireBootstrapCredentialRequest(reason: "handover"))
      #expect(retired.revoked.count == 1)
      #expect(retired.revoked.first?.state == .revoked)
      #expect(retired.keyFileRemoved)
      #expect(!FileManager.default.fileExists(atPath: keyPath))
      await expectError(.unauthenticated, reason: .credentialRevoked) { try await bootstrap.tenants.listTenants(ListTenantsRequest()) }
      let events = try await operatorClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 100, actions: [.credentialRevoked]))
      #expect(events.events.contains { $0.targetID == retired.revoked.first?.id && $0.details.contains { $0.key == "reason" && $0.value == "handover" } })
      let again = try await operatorClient.tenants.retireBootstrapCredential(RetireBootstrapCredentialRequest())
      #expect(again.revoked.isEmpty && !again.keyFileRemoved)

      // Operator key rotation: a tenant admin cannot touch it; the operator can, with a grace period.
      await expectError(.notFound) { try await admin.tenants.rotateCredential(RotateCredentialRequest(credentialID: second.credential.id)) }
      let rotated = try await operatorClient.tenants.rotateCredential(RotateCredentialRequest(
        credentialID: second.credential.id, gracePeriodSeconds: 60))
      #expect(rotated.credential.principalType == .operator)
      let third = server.client(rotated.secret)
      defer { third.close() }
      // The replaced key no longer counts as another operator key: the new one cannot be revoked.
      await expectError(.failedPrecondition, reason: .lastOperatorCredential) {
        try await third.tenants.revokeCredential(RevokeCredentialRequest(credentialID: rotated.credential.id))
      }
      _ = try await operatorClient.tenants.listTenants(ListTenantsRequest())
      server.clock.advance(seconds: 61)
      await expectError(.unauthenticated, reason: .credentialRevoked) { try await operatorClient.tenants.listTenants(ListTenantsRequest()) }
      _ = try await third.tenants.listTenants(ListTenantsRequest())
    }
    // A restart does not write a new bootstrap key: operator keys exist.
    try await withTestServer(dataDir: dataDir, configure: { $0.operatorKey = nil }) { _ in
      #expect(!FileManager.default.fileExists(atPath: keyPath))
    }
  }

  @Test func rotatingTheBootstrapKeyRemovesItsFileAndKeepsItForTheGracePeriod() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-rotate-op-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    try await withBootstrapServer(dataDir: dataDir) { server, keyPath, bootstrap in
      let keys = try await bootstrap.tenants.listCredentials(ListCredentialsRequest(principalType: .operator))
      let rotated = try await bootstrap.tenants.rotateCredential(RotateCredentialRequest(
        credentialID: try #require(keys.credentials.first?.id), gracePeriodSeconds: 600))
      #expect(!FileManager.default.fileExists(atPath: keyPath))
      _ = try await bootstrap.tenants.listTenants(ListTenantsRequest())
      server.clock.advance(seconds: 601)
      await expectError(.unauthenticated, reason: .credentialRevoked) { try await bootstrap.tenants.listTenants(ListTenantsRequest()) }
      let next = server.client(rotated.secret)
      defer { next.close() }
      _ = try await next.tenants.listTenants(ListTenantsRequest())
    }
  }
}
