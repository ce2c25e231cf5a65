import Foundation
import GuestAccessClient
import GuestAccessProto
import GuestAccessStorage
import Testing

/// Authentication caches principals; these show that no cached principal
/// outlives a change that would fail (or narrow) it.
@Suite("Principal cache")
struct PrincipalCacheTests {
  @Test func revocationRoleChangeAndDeletionApplyToTheVeryNextCall() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let ann = try await contoso.makeUser("Ann", mail: "ann@contoso.com", roles: [.userAdmin])
      // Warm the cache: the same credential succeeds repeatedly.
      for _ in 0..<3 { _ = try await ann.client.tenants.createGroup(CreateGroupRequest(displayName: "G \(UUID())")) }
      // A role taken away: the next call sees the narrowed principal.
      _ = try await admin.tenants.setRoles(SetRolesRequest(userID: ann.user.id, roles: []))
      await expectError(.permissionDenied) { try await ann.client.tenants.createGroup(CreateGroupRequest(displayName: "No")) }
      // A credential revoked after use is refused at once.
      let second = try await admin.tenants.issueCredential(IssueCredentialRequest(userID: ann.user.id, displayName: "second"))
      let secondClient = server.client(second.secret)
      for _ in 0..<3 { _ = try await secondClient.tenants.getTenant(GetTenantRequest()) }
      _ = try await admin.tenants.revokeCredential(RevokeCredentialRequest(credentialID: second.credential.id))
      await expectError(.unauthenticated, reason: .credentialRevoked) { try await secondClient.tenants.getTenant(GetTenantRequest()) }
      // A deleted user's credentials stop working at once.
      _ = try await ann.client.tenants.getTenant(GetTenantRequest())
      _ = try await admin.tenants.deleteUser(DeleteUserRequest(userID: ann.user.id))
      await expectError(.unauthenticated) { try await ann.client.tenants.getTenant(GetTenantRequest()) }
    }
  }

  @Test func creatingDataLeavesTheGenerationAloneAndAuthChangesMoveIt() async throws {
    let path = NSTemporaryDirectory() + "guestaccess-generation-" + UUID().uuidString + ".sqlite"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = try SQLiteDirectoryStore(path: path)
    defer { store.close() }
    let tenant = Tenant(id: "t1", displayName: "T", state: .active)
    try await store.write { try $0.putTenant(tenant) }
    let start = store.authGeneration
    #expect(start > 0, "putTenant changes what authentication reads")
    let user = User(id: "u1", tenantID: "t1", userType: .member, displayName: "U", mail: "u@t.test", accountEnabled: true)
    try await store.write { try $0.insertUser(user) }
    try await store.write { _ = try $0.appendAudit(AuditEvent(tenantID: "t1", actorID: "u1")) }
    let credential = Credential(id: "c1", tenantID: "t1", userID: "u1")
    try await store.write { try $0.insertCredential(credential, secretHash: [1, 2, 3]) }
    try await store.write { try $0.touchCredential(id: "c1", lastUsedAt: 42) }
    try await store.write { try $0.touchCredential(id: "c1", lastUsedAt: 41) }  // never backwards
    try await store.write { try $0.touchUser(id: "u1", lastSignInAt: 77) }
    #expect(store.authGeneration == start, "new users, credentials, audit events and last-use times cannot revoke anyone's access")
    #expect(try await store.read { try $0.credential(tenantID: "t1", id: "c1")?.lastUsedAt } == 42)
    #expect(try await store.read { try $0.user(tenantID: "t1", id: "u1")?.lastSignInAt } == 77)
    var blocked = user
    blocked.accountEnabled = false
    let update = blocked
    try await store.write { try $0.updateUser(update) }
    #expect(store.authGeneration == start + 1, "moved before the write was acknowledged")
    // A write that fails rolls back; at most it costs a spurious move, never a missed one.
    await #expect(throws: (any Error).self) {
      try await store.write { writer in
        try writer.updateUser(update)
        throw StoreError.conflict("forced")
      }
    }
    #expect(store.authGeneration >= start + 1)
  }
}
