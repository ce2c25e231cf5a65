import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// The tenant policies (docs/SECURITY.md) that govern invitations and redemption.
enum InvitePolicy {
  /// Who may invite: NOBODY stops everyone; admins may always invite otherwise;
  /// EVERYONE lets members and guests; the other levels need GUEST_INVITER
  /// (or membership, for MEMBERS_AND_GUEST_INVITERS).
  static func checkMayInvite(_ principal: Principal, settings: TenantSettings, userType: UserType) throws(RPCError) {
    guard let user = principal.actingUser else { throw denied("the operator cannot invite; use a tenant admin", "INVITE_NOT_ALLOWED") }
    let policy = settings.guestInvitePolicy
    if policy == .nobody { throw denied("the tenant's policy lets nobody invite guests", "INVITE_NOT_ALLOWED") }
    let isGuest = user.userType == .guest
    let roles = user.roles
    let isAdmin = !isGuest && (roles.contains(.globalAdmin) || roles.contains(.userAdmin))
    let isInviter = roles.contains(.guestInviter)
    let allowed: Bool
    switch policy {
    case .membersAndGuestInviters: allowed = isAdmin || isInviter || !isGuest
    case .adminsAndGuestInviters: allowed = isAdmin || isInviter
    default: allowed = true
    }
    guard allowed else { throw denied("the tenant's invite policy (\(policy.protoName)) does not let you invite", "INVITE_NOT_ALLOWED") }
    if userType == .member && !isAdmin {
      throw denied("only GLOBAL_ADMIN or USER_ADMIN may invite members", "INVITE_NOT_ALLOWED")
    }
  }

  /// Whether `email`'s domain passes the tenant's collaboration domain list.
  static func checkDomain(_ email: String, settings: TenantSettings) throws(RPCError) {
    let domain = String(email.split(separator: "@").last ?? "")
    let listed = settings.collaborationDomains.contains { pattern in
      pattern.hasPrefix("*.") ? domain.hasSuffix(String(pattern.dropFirst(1))) || domain == String(pattern.dropFirst(2)) : domain == pattern
    }
    switch settings.collaborationDomainMode {
    case .denyList where listed, .allowList where !listed:
      throw denied("the tenant's collaboration settings do not allow the domain \(domain)", "DOMAIN_NOT_ALLOWED")
    default:
      return
    }
  }

  /// The home user of an address in another tenant of this service, if any
  /// (a verified domain names the tenant; else an existing member's mail).
  static func homeUser(of email: String, inviting tenantID: String, reader: any DirectoryReader) throws -> User? {
    try reader.users(mail: email).first { $0.tenantID != tenantID && $0.userType == .member }
  }

  /// Both tenants' cross-tenant rules must allow the home user to collaborate.
  static func checkCrossTenant(homeUser: User?, resourceTenantID: String, reader: any DirectoryReader) throws {
    guard let homeUser else { return }
    let allowed = try CrossTenantEvaluator(reader: reader).usersAllowed(
      resourceTenantID: resourceTenantID, homeTenantID: homeUser.tenantID, homeUserID: homeUser.id)
    guard allowed else { throw denied("cross-tenant access settings block collaboration with this user's organization", "CROSS_TENANT_ACCESS_BLOCKED") }
  }

  static func denied(_ message: String, _ reason: String) -> RPCError {
    RPCError(code: .permissionDenied, message: message, errorInfo: ErrorInfo(reason: reason, domain: "guestaccess.v1"))
  }
}
