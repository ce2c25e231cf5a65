import ArgumentParser
import GuestAccessClient

/// `guestctl settings show|set`: a tenant's external collaboration policy.
struct SettingsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "settings", abstract: "Show or change the tenant's guest policy settings.",
    subcommands: [Show.self, Set.self])

  /// `settings show`.
  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the effective settings.")
    @OptionGroup var global: GlobalOptions

    mutating func run() async throws {
      let settings = try await global.perform { try await $0.tenants.getSettings(GetSettingsRequest(tenantID: global.tenantID)) }
      try global.output(settings) { DetailView.render(settings) }
    }
  }

  /// `settings set --invite-policy … --otp disabled …`.
  struct Set: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change settings; only the flags given change (GLOBAL_ADMIN or operator).")
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("invite-policy"), help: "Who may invite guests.") var invitePolicy: GuestInvitePolicy?
    @Option(name: .customLong("access-level"), help: "What guests may see of the directory.") var accessLevel: GuestAccessLevel?
    @Option(name: .customLong("domain-mode"), help: "How --domains is read.") var domainMode: CollaborationDomainMode?
    @Option(help: ArgumentHelp("The allow or deny list, comma separated (\"\" clears it).", valueName: "domains"))
    var domains: String?
    @Option(help: "Email one-time passcode redemption.") var otp: EmailOtpMode?
    @Option(name: .customLong("lifetime-days"), help: "Default invitation lifetime in days (1-30; 0 = 7).") var lifetimeDays: Int32?
    @Option(name: .customLong("rate-limit"), help: "Invitations per rate window (0 = the server's default).") var rateLimit: Int32?
    @Option(name: .customLong("rate-window"), help: "The rate window, e.g. 3600, 1h, 1d (0 = 1h).") var rateWindow: DurationArgument?
    @Option(name: .customLong("redirect-allow"), help: ArgumentHelp(
      "Allowed invitation redirect URL prefixes, comma separated, e.g. https://apps.contoso.com/ (\"\" clears: https on the verified domains).",
      valueName: "prefixes"))
    var redirectAllow: String?
    @Option(name: .customLong("invitation-email"), help: "Who may have the server send invitation email.")
    var invitationEmail: InvitationEmailPolicy?
    @Option(name: .customLong("max-key-lifetime-days"), help: "Longest lifetime of the tenant's API keys in days (1-3650; 0 = no maximum).")
    var maxKeyLifetimeDays: Int32?
    @Option(name: .customLong("redemption-order"), help: ArgumentHelp(
      "How invitees sign in, in order, comma separated: home-tenant, partner-provider, email-passcode (\"\" = the default order).",
      valueName: "steps"))
    var redemptionOrder: String?

    func validate() throws {
      let given: [Any?] = [
        invitePolicy, accessLevel, domainMode, domains, otp, lifetimeDays, rateLimit, rateWindow, redirectAllow, invitationEmail,
        maxKeyLifetimeDays, redemptionOrder,
      ]
      guard given.contains(where: { $0 != nil }) else { throw ValidationError("name at least one setting to change") }
    }

    mutating func run() async throws {
      var settings = TenantSettings()
      var mask: [String] = []
      if let invitePolicy { settings.guestInvitePolicy = invitePolicy; mask.append("guest_invite_policy") }
      if let accessLevel { settings.guestAccessLevel = accessLevel; mask.append("guest_access_level") }
      if let domainMode { settings.collaborationDomainMode = domainMode; mask.append("collaboration_domain_mode") }
      if let domains { settings.collaborationDomains = Self.split(domains); mask.append("collaboration_domains") }
      if let otp { settings.emailOtpMode = otp; mask.append("email_otp_mode") }
      if let lifetimeDays { settings.defaultInvitationLifetimeDays = lifetimeDays; mask.append("default_invitation_lifetime_days") }
      if let rateLimit { settings.invitationRateLimit = rateLimit; mask.append("invitation_rate_limit") }
      if let rateWindow { settings.invitationRateWindowSeconds = rateWindow.seconds; mask.append("invitation_rate_window_seconds") }
      if let redirectAllow { settings.redirectURLAllowList = Self.split(redirectAllow); mask.append("redirect_url_allow_list") }
      if let invitationEmail { settings.invitationEmailPolicy = invitationEmail; mask.append("invitation_email_policy") }
      if let maxKeyLifetimeDays {
        settings.maxCredentialLifetimeDays = maxKeyLifetimeDays
        mask.append("max_credential_lifetime_days")
      }
      if let redemptionOrder {
        settings.redemptionOrder = try Self.split(redemptionOrder).map {
          guard let step = RedemptionStep(argument: $0) else { throw ValidationError("unknown redemption step \($0)") }
          return step
        }
        mask.append("redemption_order")
      }
      let request = UpdateSettingsRequest(tenantID: global.tenantID, settings: settings, updateMask: mask)
      let updated = try await global.perform { try await $0.tenants.updateSettings(request) }
      try global.output(updated) { DetailView.render(updated) }
    }

    /// Splits a comma or space separated list, dropping empty items.
    static func split(_ text: String) -> [String] {
      text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }
  }
}
