import GuestAccessAPI
import GuestAccessServerAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// TenantService: tenants, settings, cross-tenant access, the directory
/// (users, groups, applications), credentials and the audit log.
public struct TenantServiceImpl: TenantService.ServiceProtocol {
  let env: ServiceEnvironment

  /// Creates the service.
  public init(environment: ServiceEnvironment) {
    env = environment
  }

  /// The default settings of a new tenant.
  static func defaultSettings(tenantID: String) -> TenantSettings {
    TenantSettings(
      tenantID: tenantID, guestInvitePolicy: .everyone, guestAccessLevel: .limited, collaborationDomainMode: .allowAll,
      emailOtpMode: .enabled, defaultInvitationLifetimeDays: 7, invitationRateLimit: 0, invitationRateWindowSeconds: 3600,
      invitationEmailPolicy: .members, redemptionOrder: RedemptionPolicy.defaultOrder)
  }

  /// The effective settings: stored values with unset ones at their defaults.
  static func effective(_ stored: TenantSettings?, tenantID: String, defaultRateLimit: Int32) -> TenantSettings {
    var settings = defaultSettings(tenantID: tenantID)
    if let stored {
      if stored.guestInvitePolicy != .unspecified { settings.guestInvitePolicy = stored.guestInvitePolicy }
      if stored.guestAccessLevel != .unspecified { settings.guestAccessLevel = stored.guestAccessLevel }
      if stored.collaborationDomainMode != .unspecified { settings.collaborationDomainMode = stored.collaborationDomainMode }
      settings.collaborationDomains = stored.collaborationDomains
      if stored.emailOtpMode != .unspecified { settings.emailOtpMode = stored.emailOtpMode }
      if stored.defaultInvitationLifetimeDays != 0 { settings.defaultInvitationLifetimeDays = stored.defaultInvitationLifetimeDays }
      settings.invitationRateLimit = stored.invitationRateLimit
      if stored.invitationRateWindowSeconds != 0 { settings.invitationRateWindowSeconds = stored.invitationRateWindowSeconds }
      settings.redirectURLAllowList = stored.redirectURLAllowList
      if stored.invitationEmailPolicy != .unspecified { settings.invitationEmailPolicy = stored.invitationEmailPolicy }
      settings.maxCredentialLifetimeDays = stored.maxCredentialLifetimeDays
      if !stored.redemptionOrder.isEmpty { settings.redemptionOrder = stored.redemptionOrder }
      settings.updatedAt = stored.updatedAt
      settings.updatedBy = stored.updatedBy
    }
    if settings.invitationRateLimit == 0 { settings.invitationRateLimit = defaultRateLimit }
    return settings
  }

  /// Validates settings fields named by `mask` (all when empty) and merges them into `base`.
  static func merge(_ update: TenantSettings, into base: TenantSettings, mask: [String]) throws(RPCError) -> TenantSettings {
    let known = ["guest_invite_policy", "guest_access_level", "collaboration_domain_mode", "collaboration_domains",
                 "email_otp_mode", "default_invitation_lifetime_days", "invitation_rate_limit", "invitation_rate_window_seconds",
                 "redirect_url_allow_list", "invitation_email_policy", "max_credential_lifetime_days", "redemption_order"]
    let fields = mask.contains("*") ? known : mask
    for field in fields where !known.contains(field) {
      throw RPCError.invalidArgument(field: "update_mask", "unknown settings field \(field.prefix(64))")
    }
    var result = base
    for field in fields {
      switch field {
      case "guest_invite_policy":
        guard case .unrecognized = update.guestInvitePolicy else { result.guestInvitePolicy = update.guestInvitePolicy; continue }
        throw RPCError.invalidArgument(field: "settings.guest_invite_policy", "unknown value")
      case "guest_access_level":
        guard case .unrecognized = update.guestAccessLevel else { result.guestAccessLevel = update.guestAccessLevel; continue }
        throw RPCError.invalidArgument(field: "settings.guest_access_level", "unknown value")
      case "collaboration_domain_mode":
        guard case .unrecognized = update.collaborationDomainMode else {
          result.collaborationDomainMode = update.collaborationDomainMode
          continue
        }
        throw RPCError.invalidArgument(field: "settings.collaboration_domain_mode", "unknown value")
      case "collaboration_domains":
        guard update.collaborationDomains.count <= 1000 else {
          throw RPCError.invalidArgument(field: "settings.collaboration_domains", "at most 1000 domains")
        }
        var domains: [String] = []
        for (index, domain) in update.collaborationDomains.enumerated() {
          domains.append(try Validation.domainPattern(domain, field: "settings.collaboration_domains[\(index)]"))
        }
        result.collaborationDomains = Array(Set(domains)).sorted()
      case "email_otp_mode":
        guard case .unrecognized = update.emailOtpMode else { result.emailOtpMode = update.emailOtpMode; continue }
        throw RPCError.invalidArgument(field: "settings.email_otp_mode", "unknown value")
      case "default_invitation_lifetime_days":
        guard (0...30).contains(update.defaultInvitationLifetimeDays) else {
          throw RPCError.invalidArgument(field: "settings.default_invitation_lifetime_days", "must be 1 to 30 (0 = default 7)")
        }
        result.defaultInvitationLifetimeDays = update.defaultInvitationLifetimeDays
      case "invitation_rate_limit":
        guard (0...1_000_000).contains(update.invitationRateLimit) else {
          throw RPCError.invalidArgument(field: "settings.invitation_rate_limit", "must be 0 to 1000000")
        }
        result.invitationRateLimit = update.invitationRateLimit
      case "redirect_url_allow_list":
        result.redirectURLAllowList = try redirectAllowList(update.redirectURLAllowList)
      case "max_credential_lifetime_days":
        guard (0...3650).contains(update.maxCredentialLifetimeDays) else {
          throw RPCError.invalidArgument(field: "settings.max_credential_lifetime_days", "must be 1 to 3650 (0 = no maximum)")
        }
        result.maxCredentialLifetimeDays = update.maxCredentialLifetimeDays
      case "redemption_order":
        result.redemptionOrder = try redemptionOrder(update.redemptionOrder)
      case "invitation_email_policy":
        guard case .unrecognized = update.invitationEmailPolicy else { result.invitationEmailPolicy = update.invitationEmailPolicy; continue }
        throw RPCError.invalidArgument(field: "settings.invitation_email_policy", "unknown value")
      default:
        guard (0...86_400).contains(update.invitationRateWindowSeconds) else {
          throw RPCError.invalidArgument(field: "settings.invitation_rate_window_seconds", "must be 1 to 86400 (0 = default 3600)")
        }
        result.invitationRateWindowSeconds = update.invitationRateWindowSeconds
      }
    }
    let mode = result.collaborationDomainMode
    if (mode == .allowAll || mode == .unspecified) && !result.collaborationDomains.isEmpty {
      throw RPCError.invalidArgument(field: "settings.collaboration_domains", "must be empty with ALLOW_ALL")
    }
    return result
  }

  /// Validates a redemption order: known steps, each at most once (empty = the default order).
  static func redemptionOrder(_ steps: [RedemptionStep]) throws(RPCError) -> [RedemptionStep] {
    var result: [RedemptionStep] = []
    for (index, step) in steps.enumerated() {
      let field = "settings.redemption_order[\(index)]"
      switch step {
      case .homeTenant, .partnerProvider, .emailPasscode:
        guard !result.contains(step) else { throw RPCError.invalidArgument(field: field, "\(step.protoName) is listed twice") }
        result.append(step)
      default:
        throw RPCError.invalidArgument(field: field, "must be HOME_TENANT, PARTNER_PROVIDER or EMAIL_PASSCODE")
      }
    }
    return result
  }

  /// Validates a redirect URL allow list: at most 100 https URL prefixes, each
  /// ending its host with "/" (so "https://contoso.com" cannot match "https://contoso.com.evil.example").
  static func redirectAllowList(_ entries: [String]) throws(RPCError) -> [String] {
    guard entries.count <= 100 else { throw RPCError.invalidArgument(field: "settings.redirect_url_allow_list", "at most 100 entries") }
    var result: [String] = []
    for (index, entry) in entries.enumerated() {
      let field = "settings.redirect_url_allow_list[\(index)]"
      let url = try Validation.url(entry, field: field)
      guard InvitePolicy.httpsHost(of: url) != nil, url.dropFirst(8).first(where: { "/?#".contains($0) }) == "/" else {
        throw RPCError.invalidArgument(field: field, "must be an https URL prefix whose host ends with \"/\", such as https://apps.contoso.com/")
      }
      if !result.contains(url) { result.append(url) }
    }
    return result
  }
}
