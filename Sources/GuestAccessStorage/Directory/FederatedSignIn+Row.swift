/// A federated sign-in as both stores keep it in `federated_sign_ins`: one
/// column list, one mapping and one upsert, whatever the SQL dialect.
extension FederatedSignIn {
  /// The columns `init(storedRow:)` reads and `storedValues` fills, in order.
  public static let storedColumns =
    "state_hash, invitation_id, tenant_id, provider_id, provider_tenant_id, step, nonce, sealed_verifier, expires_at, state, created_at"

  /// A row selected with `storedColumns`, read column by column (index from 0).
  public init(storedRow text: (Int) -> String, _ integer: (Int) -> Int64, _ blob: (Int) -> [UInt8]) {
    self.init(
      stateHash: blob(0), invitationID: text(1), tenantID: text(2), providerID: text(3), providerTenantID: text(4), step: integer(5),
      nonce: text(6), sealedVerifier: blob(7), expiresAt: integer(8), state: State(rawValue: integer(9)) ?? .completed,
      createdAt: integer(10))
  }

  /// The row's values, in `storedColumns` order.
  public var storedValues: [SQLiteValue] {
    [.blob(stateHash), .text(invitationID), .text(tenantID), .text(providerID), .text(providerTenantID), .integer(step), .text(nonce),
     .blob(sealedVerifier), .integer(expiresAt), .integer(state.rawValue), .integer(createdAt)]
  }

  /// Inserts a sign-in, or moves an existing one (same state hash) to its new state; parameters `storedValues`.
  public static func upsert(_ dialect: SQLDialect) -> String {
    let placeholders = (1...storedColumns.split(separator: ",").count).map(dialect.placeholder).joined(separator: ", ")
    return "INSERT INTO federated_sign_ins (\(storedColumns)) VALUES (\(placeholders)) ON CONFLICT (state_hash) DO UPDATE SET state = excluded.state"
  }
}
