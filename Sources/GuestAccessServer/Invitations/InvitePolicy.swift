import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// The tenant policies (docs/SECURITY.md) that govern invitations and redemption.
enum InvitePolicy {
  /// Who may invite: NOBODY stops everyone; admins may always invite otherwise;
  /// EVERYONE lets members and guests; the other levels need GUEST_INVITER
  /// (or membership, for MEMBERS_AND_GUEST_INVITERS).
  static func checkMayInvite(_ principal: Principal, settings: TenantSettings, userType: UserType) throws(RPCError) {
    guard let user = principal.actingUser else { throw RPCError.permissionDenied(
      "the operator cannot invite; use a tenant admin", reason: .inviteNotAllowed) }
    let policy = settings.guestInvitePolicy
    if policy == .nobody { throw RPCError.permissionDenied("the tenant's policy lets nobody invite guests", reason: .inviteNotAllowed) }
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
    guard allowed else { throw RPCError.permissionDenied(
      "the tenant's invite policy (\(policy.protoName)) does not let you invite", reason: .inviteNotAllowed) }
    if userType == .member && !isAdmin {
      throw RPCError.permissionDenied("only GLOBAL_ADMIN or USER_ADMIN may invite members", reason: .inviteNotAllowed)
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
      throw RPCError.permissionDenied("the tenant's collaboration settings do not allow the domain \(domain)", reason: .domainNotAllowed)
    default:
      return
    }
  }

  /// Who may grant through an invitation: GLOBAL_ADMIN and USER_ADMIN, any
  /// group or application of the tenant (groups and applications have no
  /// owners); everyone else, nothing.
  static func checkGrants(_ grants: InvitationGrants, principal: Principal) throws(RPCError) {
    guard !(grants.groupIDs.isEmpty && grants.applicationIDs.isEmpty) else { return }
    guard principal.isAdmin else {
      throw RPCError.permissionDenied(
        "only GLOBAL_ADMIN or USER_ADMIN may grant groups or applications through an invitation", reason: .grantNotAllowed)
    }
  }

  /// Who may have the server send invitation email in the tenant's name (the
  /// tenant's invitation_email_policy).
  static func checkMaySendEmail(_ principal: Principal, settings: TenantSettings) throws(RPCError) {
    guard let user = principal.actingUser else { throw RPCError.permissionDenied(
      "the operator cannot invite; use a tenant admin", reason: .inviteNotAllowed) }
    let isGuest = user.userType == .guest
    let allowed = switch settings.invitationEmailPolicy {
    case .everyone: true
    case .adminsAndGuestInviters: !isGuest && (principal.isAdmin || user.roles.contains(.guestInviter))
    default: !isGuest
    }
    guard allowed else {
      throw RPCError.permissionDenied(
        "the tenant's invitation email policy (\(settings.invitationEmailPolicy.protoName)) does not let you send invitation email; "
          + "create the invitation without email and pass its redeem URL on",
        reason: .invitationEmailNotAllowed)
    }
  }

  /// Whether a redirect URL is allowed: it starts with an entry of the tenant's
  /// redirect_url_allow_list; with an empty list, it is https on a verified domain
  /// of the tenant (or a subdomain), or under the server's public base URL.
  static func checkRedirect(_ url: String, settings: TenantSettings, tenant: Tenant, publicBaseURL: String) throws(RPCError) {
    let allowed: Bool
    if !settings.redirectURLAllowList.isEmpty {
      allowed = settings.redirectURLAllowList.contains { url.lowercased().hasPrefix($0.lowercased()) }
    } else if !publicBaseURL.isEmpty && url.lowercased().hasPrefix(Self.originPrefix(publicBaseURL)) {
      // Under the server's own configured base URL (its pages), whatever its scheme.
      allowed = true
    } else if let host = httpsHost(of: url) {
      allowed = tenant.verifiedDomains.contains { host == $0 || host.hasSuffix("." + $0) }
    } else {
      allowed = false
    }
    guard allowed else {
      throw RPCError.permissionDenied("the tenant's redirect URL policy does not allow this redirect_url", reason: .redirectURLNotAllowed)
    }
  }

  /// The lowercased host of an https URL without user info; nil otherwise.
  static func httpsHost(of url: String) -> String? {
    let lower = url.lowercased()
    guard lower.hasPrefix("https://") else { return nil }
    let authority = lower.dropFirst(8).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    guard !authority.contains("@"), !authority.contains("\\") else { return nil }
    let host = authority.prefix { $0 != ":" }
    return host.isEmpty ? nil : String(host)
  }

  /// A base URL as a prefix that cannot be extended into another host: "https://h/".
  static func originPrefix(_ base: String) -> String {
    var prefix = base.lowercased()
    while prefix.hasSuffix("/") { prefix.removeLast() }
    return prefix + "/"
  }

  /// Whether an address may redeem an invitation of, or sign in to, tenant
  /// `tenantID` by email passcode: the tenant allows passcodes, and no other
  /// tenant of this service verified the address's domain (that tenant's
  /// members redeem with their own credential, under their tenant's outbound
  /// rules).
  static func checkPasscodePath(_ email: String, tenantID: String, settings: TenantSettings, reader: any DirectoryReader) throws {
    guard settings.emailOtpMode != .disabled else {
      throw RPCError.failedPrecondition(
        "the tenant does not allow email passcode redemption; sign in with your organization's account", reason: .emailOTPDisabled)
    }
    let domain = VerifiedMail.domain(of: email)
    if let owner = try reader.tenantID(forDomain: domain), owner != tenantID {
      throw RPCError.failedPrecondition(
        "\(domain) is managed by an organization here; redeem with its credential", reason: .homeTenantRequired)
    }
  }

  /// Both tenants' cross-tenant rules must allow the home user to collaborate.
  static func checkCrossTenant(homeUser: User?, resourceTenantID: String, reader: any DirectoryReader) throws {
    guard let homeUser else { return }
    let allowed = try CrossTenantEvaluator(reader: reader).usersAllowed(
      resourceTenantID: resourceTenantID, homeTenantID: homeUser.tenantID, homeUserID: homeUser.id)
    guard allowed else { throw RPCError.permissionDenied(
      "cross-tenant access settings block collaboration with this user's organization", reason: .crossTenantAccessBlocked) }
  }
}
