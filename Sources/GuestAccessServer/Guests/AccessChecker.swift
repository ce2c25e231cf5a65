import GuestAccessProto
import GuestAccessStorage

/// Decides CheckAccess: everything a guest call is checked
/// against — removal, redemption, block, expiry, the home account, both
/// sides' cross-tenant rules — and then assignment or membership. The
/// denials are tried in the order of `AccessCheckReason`; the first that
/// applies is the answer.
struct AccessChecker {
  /// The resource asked about.
  enum Resource: Sendable, Hashable {
    /// An application of the tenant.
    case application(String)
    /// A group of the tenant.
    case group(String)
  }

  let reader: any DirectoryReader
  let now: Int64

  /// Why `principal` (a user of `tenantID`) may or may not use `resource`.
  func reason(principal: User, resource: Resource, tenantID: String) throws -> AccessCheckReason {
    if principal.userType == .guest {
      if principal.deletedAt != 0 { return .guestRemoved }
      if principal.externalUserState != .accepted { return .pendingAcceptance }
    }
    if !principal.accountEnabled { return .signInBlocked }
    if principal.userType == .guest {
      if principal.accessExpiresAt != 0 && principal.accessExpiresAt <= now { return .accessExpired }
      if let home = principal.identities.first(where: { $0.signInType == .homeTenant }) {
        if let denial = try crossTenantDenial(home: home, resource: resource, tenantID: tenantID) { return denial }
      }
    }
    switch resource {
    case .application(let id):
      return try reader.isAssigned(applicationID: id, userID: principal.id) ? .applicationAssigned : .notAssigned
    case .group(let id):
      return try reader.isMember(groupID: id, userID: principal.id) ? .groupMember : .notGroupMember
    }
  }

  /// The home account's state, then the resource tenant's inbound and the
  /// home tenant's outbound rules (users and groups, then the application).
  private func crossTenantDenial(home: Identity, resource: Resource, tenantID: String) throws -> AccessCheckReason? {
    guard let user = try reader.user(tenantID: home.issuer, id: home.issuerAssignedID), user.deletedAt == 0, user.accountEnabled,
      let tenant = try reader.tenant(id: home.issuer), tenant.state == .active
    else { return .homeAccountDisabled }
    let evaluator = CrossTenantEvaluator(reader: reader)
    let sides: [(CrossTenantEvaluator.Side, AccessCheckReason)] = [
      (.inbound, .crossTenantInboundBlocked), (.outbound, .crossTenantOutboundBlocked),
    ]
    for (side, denial) in sides {
      guard try evaluator.usersAllowed(side, resourceTenantID: tenantID, homeTenantID: user.tenantID, homeUserID: user.id) else {
        return denial
      }
      if case .application(let id) = resource,
        try !evaluator.applicationAllowed(side, resourceTenantID: tenantID, homeTenantID: user.tenantID, applicationID: id)
      {
        return denial
      }
    }
    return nil
  }
}
