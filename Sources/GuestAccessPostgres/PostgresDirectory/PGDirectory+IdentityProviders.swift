import GuestAccessProto
import GuestAccessStorage

extension PGDirectory {
  private func storedProvider(_ row: PGRow) throws -> StoredIdentityProvider {
    StoredIdentityProvider(provider: try decode(IdentityProvider.self, row.blob(0)), sealedSecret: row.blob(1))
  }

  func identityProviders(tenantID: String) throws -> [StoredIdentityProvider] {
    try db.rows("SELECT data, sealed_secret FROM identity_providers WHERE tenant_id = $1 ORDER BY id\(lock)", [.text(tenantID)]) {
      try storedProvider($0)
    }
  }

  func identityProvider(tenantID: String, id: String) throws -> StoredIdentityProvider? {
    try db.first("SELECT data, sealed_secret FROM identity_providers WHERE id = $1 AND tenant_id = $2\(lock)", [.text(id), .text(tenantID)]) {
      try storedProvider($0)
    }
  }

  func identityProviders(issuer: String) throws -> [StoredIdentityProvider] {
    try db.rows("SELECT data, sealed_secret FROM identity_providers WHERE issuer = $1 ORDER BY id\(lock)", [.text(issuer)]) {
      try storedProvider($0)
    }
  }

  func federatedLinks(issuer: String, subject: String) throws -> [FederatedLink] {
    try db.rows(
      "SELECT tenant_id, user_id FROM federated_identities WHERE issuer = $1 AND subject = $2 ORDER BY tenant_id\(lock)",
      [.text(issuer), .text(subject)]
    ) { FederatedLink(tenantID: $0.text(0), userID: $0.text(1)) }
  }

  func putIdentityProvider(_ stored: StoredIdentityProvider) throws {
    markInvalidatesCaches()  // authentication derives from this
    let provider = stored.provider
    try db.run(
      """
      INSERT INTO identity_providers (id, tenant_id, issuer, data, sealed_secret) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (id) DO UPDATE SET issuer = excluded.issuer, data = excluded.data, sealed_secret = excluded.sealed_secret
      """,
      [.text(provider.id), .text(provider.tenantID), .text(provider.oidc.issuer), .blob(provider.serializedBytes()), .blob(stored.sealedSecret)])
  }

  func deleteIdentityProvider(tenantID: String, id: String) throws -> Bool {
    markInvalidatesCaches()  // authentication derives from this
    return try db.run("DELETE FROM identity_providers WHERE id = $1 AND tenant_id = $2", [.text(id), .text(tenantID)]) > 0
  }

  func linkFederatedIdentity(issuer: String, subject: String, _ link: FederatedLink) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run(
      """
      INSERT INTO federated_identities (issuer, subject, tenant_id, user_id) VALUES ($1, $2, $3, $4)
      ON CONFLICT (issuer, subject, tenant_id) DO UPDATE SET user_id = excluded.user_id
      """,
      [.text(issuer), .text(subject), .text(link.tenantID), .text(link.userID)])
  }

  func unlinkFederatedIdentities(userID: String) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run("DELETE FROM federated_identities WHERE user_id = $1", [.text(userID)])
  }
}
