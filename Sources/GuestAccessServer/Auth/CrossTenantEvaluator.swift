import GuestAccessProto
import GuestAccessStorage

/// Evaluates cross-tenant access rules: the resource tenant's
/// inbound rules for the home tenant and the home tenant's outbound rules
/// for the resource tenant must both allow. Partner entries override the
/// default entry rule by rule; an unset rule everywhere allows.
struct CrossTenantEvaluator {
  let reader: any DirectoryReader

  /// One side of a collaboration: the resource tenant's inbound rules or the home tenant's outbound rules.
  enum Side: Sendable {
    /// The resource tenant's rules for guests coming in from the home tenant.
    case inbound
    /// The home tenant's rules for its users going out to the resource tenant.
    case outbound
  }

  /// Whether a user of `homeTenantID` may collaborate in `resourceTenantID`.
  func usersAllowed(resourceTenantID: String, homeTenantID: String, homeUserID: String) throws -> Bool {
    try usersAllowed(.inbound, resourceTenantID: resourceTenantID, homeTenantID: homeTenantID, homeUserID: homeUserID)
      && usersAllowed(.outbound, resourceTenantID: resourceTenantID, homeTenantID: homeTenantID, homeUserID: homeUserID)
  }

  /// Whether a user of `homeTenantID` may use `applicationID` of `resourceTenantID`.
  func applicationAllowed(resourceTenantID: String, homeTenantID: String, applicationID: String) throws -> Bool {
    try applicationAllowed(.inbound, resourceTenantID: resourceTenantID, homeTenantID: homeTenantID, applicationID: applicationID)
      && applicationAllowed(.outbound, resourceTenantID: resourceTenantID, homeTenantID: homeTenantID, applicationID: applicationID)
  }

  /// Whether one side's users-and-groups rule lets the user collaborate.
  func usersAllowed(_ side: Side, resourceTenantID: String, homeTenantID: String, homeUserID: String) throws -> Bool {
    guard !homeTenantID.isEmpty, homeTenantID != resourceTenantID else { return true }
    let rule = try self.rule(side, resourceTenantID: resourceTenantID, homeTenantID: homeTenantID) {
      side == .inbound ? $0.inbound.usersAndGroups : $0.outbound.usersAndGroups
    }
    return allows(rule, subject: homeUserID, groups: Set(try reader.groupIDs(userID: homeUserID)))
  }

  /// Whether one side's applications rule lets the user use the application.
  func applicationAllowed(_ side: Side, resourceTenantID: String, homeTenantID: String, applicationID: String) throws -> Bool {
    guard !homeTenantID.isEmpty, homeTenantID != resourceTenantID else { return true }
    let rule = try self.rule(side, resourceTenantID: resourceTenantID, homeTenantID: homeTenantID) {
      side == .inbound ? $0.inbound.applications : $0.outbound.applications
    }
    return allows(rule, subject: applicationID, groups: [])
  }

  private func rule(
    _ side: Side, resourceTenantID: String, homeTenantID: String, _ pick: (CrossTenantAccessEntry) -> CrossTenantAccessRule
  ) throws -> CrossTenantAccessRule {
    switch side {
    case .inbound: try rule(tenantID: resourceTenantID, partner: homeTenantID, pick)
    case .outbound: try rule(tenantID: homeTenantID, partner: resourceTenantID, pick)
    }
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
