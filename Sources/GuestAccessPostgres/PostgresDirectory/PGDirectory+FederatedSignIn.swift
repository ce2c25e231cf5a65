import GuestAccessStorage

extension PGDirectory {
  func federatedSignIn(stateHash: [UInt8]) throws -> FederatedSignIn? {
    try db.first("SELECT \(FederatedSignIn.storedColumns) FROM federated_sign_ins WHERE state_hash = $1\(lock)", [.blob(stateHash)]) { row in
      FederatedSignIn(storedRow: { row.text($0) }, { row.int64($0) }, { row.blob($0) })
    }
  }

  func putFederatedSignIn(_ signIn: FederatedSignIn) throws {
    try db.run(FederatedSignIn.upsert(.postgres), signIn.storedValues.map(PGValue.init))
  }

  func deleteFederatedSignIns(createdBy time: Int64, limit: Int) throws -> Int {
    try db.run(
      """
      DELETE FROM federated_sign_ins WHERE state_hash IN (
        SELECT state_hash FROM federated_sign_ins WHERE created_at <= $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      """,
      [.integer(time), .integer(Int64(limit))])
  }
}
