extension Schema {
  /// Version 9: redemptions through an identity provider in progress (state, nonce, PKCE verifier).
  static let federatedSignIns = Migration(version: 9, name: "federated sign-ins", sql: """
    CREATE TABLE federated_sign_ins (
      state_hash BLOB PRIMARY KEY,
      invitation_id TEXT NOT NULL,
      tenant_id TEXT NOT NULL,
      provider_id TEXT NOT NULL,
      provider_tenant_id TEXT NOT NULL,
      step INTEGER NOT NULL,
      nonce TEXT NOT NULL,
      sealed_verifier BLOB NOT NULL,
      expires_at INTEGER NOT NULL,
      state INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX federated_sign_ins_created ON federated_sign_ins(created_at);
    """)
}
