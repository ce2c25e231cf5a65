import GuestAccessStorage
import GuestAccessProto

extension PGDirectory {
  /// In a write, the tenant's settings come in the same statement (nearly
  /// every write reads both), share-locked as the tenant is, and are kept for
  /// `settings(tenantID:)`.
  func tenant(id: String) throws -> Tenant? {
    guard let state else {
      return try db.first("SELECT data FROM tenants WHERE id = $1", [.text(id)]) { try decode(Tenant.self, $0.blob(0)) }
    }
    let found = try db.first(
      """
      SELECT t.data, s.data FROM tenants t LEFT JOIN LATERAL
        (SELECT data FROM tenant_settings WHERE tenant_id = t.id FOR SHARE) s ON true
      WHERE t.id = $1 FOR SHARE OF t
      """, [.text(id)]
    ) { row in (try decode(Tenant.self, row.blob(0)), row.isNull(1) ? nil : try decode(TenantSettings.self, row.blob(1))) }
    if let settings = found?.1 { state.settingsRead[id] = settings }
    return found?.0
  }

  func tenants(after cursor: String, limit: Int, state: TenantState?, domain: String?) throws -> [Tenant] {
    if let domain {
      return try db.rows(
        "SELECT t.data FROM tenants t JOIN tenant_domains d ON d.tenant_id = t.id WHERE d.domain = $1 AND t.id > $2 AND ($3 = 0 OR t.state = $3) ORDER BY t.id LIMIT $4",
        [.text(domain), .text(cursor), .int(state?.rawValue ?? 0), .int(limit)]
      ) { try decode(Tenant.self, $0.blob(0)) }
    }
    return try db.rows(
      "SELECT data FROM tenants WHERE id > $1 AND ($2 = 0 OR state = $2) ORDER BY id LIMIT $3\(shareLock)",
      [.text(cursor), .int(state?.rawValue ?? 0), .int(limit)]
    ) { try decode(Tenant.self, $0.blob(0)) }
  }

  func tenantID(forDomain domain: String) throws -> String? {
    try db.first("SELECT tenant_id FROM tenant_domains WHERE domain = $1\(shareLock)", [.text(domain)]) { $0.text(0) }
  }

  func settings(tenantID: String) throws -> TenantSettings? {
    if let read = state?.settingsRead[tenantID] { return read }
    return try db.first("SELECT data FROM tenant_settings WHERE tenant_id = $1\(shareLock)", [.text(tenantID)]) {
      try decode(TenantSettings.self, $0.blob(0))
    }
  }

  func crossTenantEntries(tenantID: String) throws -> [CrossTenantAccessEntry] {
    try db.rows("SELECT data FROM cross_tenant_access WHERE tenant_id = $1 ORDER BY partner_tenant_id\(shareLock)", [.text(tenantID)]) {
      try decode(CrossTenantAccessEntry.self, $0.blob(0))
    }
  }

  func crossTenantEntry(tenantID: String, partnerTenantID: String) throws -> CrossTenantAccessEntry? {
    try db.first(
      "SELECT data FROM cross_tenant_access WHERE tenant_id = $1 AND partner_tenant_id = $2\(shareLock)",
      [.text(tenantID), .text(partnerTenantID)]
    ) { try decode(CrossTenantAccessEntry.self, $0.blob(0)) }
  }

  func putTenant(_ tenant: Tenant) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run(
      "INSERT INTO tenants (id, state, data) VALUES ($1, $2, $3) ON CONFLICT(id) DO UPDATE SET state = excluded.state, data = excluded.data",
      [.text(tenant.id), .int(tenant.state.rawValue), .blob(tenant.serializedBytes())])
  }

  func setDomains(tenantID: String, domains: [String]) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run("DELETE FROM tenant_domains WHERE tenant_id = $1", [.text(tenantID)])
    for domain in domains {
      let inserted = try db.run(
        "INSERT INTO tenant_domains (domain, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.text(domain), .text(tenantID)])
      if inserted == 0 { try conflict("domain \(domain) is verified by another tenant") }
    }
  }

  func putSettings(_ settings: TenantSettings) throws {
    markInvalidatesCaches()  // authentication derives from this
    state?.settingsRead[settings.tenantID] = nil
    try db.run(
      "INSERT INTO tenant_settings (tenant_id, data) VALUES ($1, $2) ON CONFLICT(tenant_id) DO UPDATE SET data = excluded.data",
      [.text(settings.tenantID), .blob(settings.serializedBytes())])
  }

  func putCrossTenantEntry(tenantID: String, _ entry: CrossTenantAccessEntry) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run(
      """
      INSERT INTO cross_tenant_access (tenant_id, partner_tenant_id, data) VALUES ($1, $2, $3)
      ON CONFLICT(tenant_id, partner_tenant_id) DO UPDATE SET data = excluded.data
      """,
      [.text(tenantID), .text(entry.partnerTenantID), .blob(entry.serializedBytes())])
  }

  func deleteCrossTenantEntry(tenantID: String, partnerTenantID: String) throws {
    markInvalidatesCaches()  // authentication derives from this
    try db.run(
      "DELETE FROM cross_tenant_access WHERE tenant_id = $1 AND partner_tenant_id = $2",
      [.text(tenantID), .text(partnerTenantID)])
  }
}
