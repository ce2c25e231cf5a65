extension Schema {
  /// Version 7: identity providers per tenant and the index of federated
  /// identities `(issuer, sub)` → user.
  static let federation = Migration(
    version: 7, name: "identity providers and federated identities",
    sql: """
      CREATE TABLE identity_providers (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        issuer TEXT NOT NULL,
        data BLOB NOT NULL,
        sealed_secret BLOB NOT NULL
      );
      CREATE INDEX identity_providers_tenant ON identity_providers(tenant_id, id);
      CREATE INDEX identity_providers_issuer ON identity_providers(issuer, id);
      CREATE TABLE federated_identities (
        issuer TEXT NOT NULL,
        subject TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (issuer, subject, tenant_id)
      ) WITHOUT ROWID;
      CREATE INDEX federated_identities_user ON federated_identities(user_id);
      """)
}
