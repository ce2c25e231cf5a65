import GuestAccessProto
import GuestAccessStorage

/// Evaluates cross-tenant access rules (SPEC §4): the resource tenant's
/// inbound rules for the home tenant and the home tenant's outbound rules
/// for the resource tenant must both allow. Partner entries override the
/// default entry rule by rule; an unset rule everywhere allows.
struct CrossTenantEvaluator {
  let reader: any DirectoryReader

  /// Whether a user of `homeTenantID` may collaborate in `resourceTenantID`.
  func usersAllowed(resourceTenantID: String, homeTenantID: String, homeUserID: String) throws -> Bool {
    guard !homeTenantID.isEmpty, homeTenantID != resourceTenantID else { return true }
    let inbound = try rule(tenantID: resourceTenantID, partner: homeTenantID) { $0.inbound.usersAndGroups }
    let outbound = try rule(tenantID: homeTenantID, partner: resourceTenantID) { $0.outbound.usersAndGroups }
    let groups = Set(try reader.groupIDs(userID: homeUserID))
    return allows(inbound, subject: homeUserID, groups: groups) && allows(outbound, subject: homeUserID, groups: groups)
  }

  /// Whether a user of `homeTenantID` may use `applicationID` of `resourceTenantID`.
  func applicationAllowed(resourceTenantID: String, homeTenantID: String, applicationID: String) throws -> Bool {
    guard !homeTenantID.isEmpty, homeTenantID != resourceTenantID else { return true }
    let inbound = try rule(tenantID: resourceTenantID, partner: homeTenantID) { $0.inbound.applications }
    let outbound = try rule(tenantID: homeTenantID, partner: resourceTenantID) { $0.outbound.applications }
    return allows(inbound, subject: applicationID, groups: []) && allows(outbound, subject: applicationID, groups: [])
  }

  private func rule(
    tenantID: String, partner: String, _ pick: (CrossTenantAccessEntry) -> CrossTenantAccessRule
  ) throws -> CrossTenantAccessRule {
    if let entry = try reader.crossTenantEntry(tenantID: tenantID, partnerTenantID: partner) {
      let specific = pick(entry)
      if specific.accessType != .unspecified { return specific }
    }
    if let entry = try reader.crossTenantEntry(tenantID: tenantID, partnerTenantID: "") {
      return pick(entry)
    }
    return CrossTenantAccessRule()
  }

  private func allows(_ rule: CrossTenantAccessRule, subject: String, groups: Set<String>) -> Bool {
    let matches = rule.targets.isEmpty || rule.targets.contains { $0.targetID == subject || groups.contains($0.targetID) }
    switch rule.accessType {
    case .blocked: return !matches
    case .allowed: return matches
    default: return true
    }
  }
}
