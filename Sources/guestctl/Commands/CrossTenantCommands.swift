import ArgumentParser
import GuestAccessClient

/// `guestctl cross-tenant show|set`: the cross-tenant access policy.
struct CrossTenantCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cross-tenant", abstract: "Show or change the cross-tenant access policy (default and partner entries).",
    subcommands: [Show.self, Set.self])

  /// `cross-tenant show [--partner ID]`.
  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the policy: the default entry and partner entries.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only the default entry and this partner's entry.") var partner: String = ""

    mutating func run() async throws {
      let request = GetCrossTenantAccessRequest(tenantID: global.tenantID, partnerTenantID: partner)
      let policy = try await global.perform { try await $0.tenants.getCrossTenantAccess(request) }
      try global.output(policy) { Self.table([policy.defaultEntry] + policy.partners).render() }
    }

    /// One row per entry: partner, then the four rules.
    static func table(_ entries: [CrossTenantAccessEntry]) -> Table {
      var table = Table("partner", "inbound users", "inbound apps", "outbound users", "outbound apps", "updated")
      for entry in entries {
        table.add(
          entry.partnerTenantID.isEmpty ? "(default)" : entry.partnerTenantID, rule(entry.inbound.usersAndGroups),
          rule(entry.inbound.applications), rule(entry.outbound.usersAndGroups), rule(entry.outbound.applications),
          Display.time(entry.updatedAt))
      }
      return table
    }

    /// `allowed`, `blocked: user:usr_1,group:grp_2`, or `-` (inherited / everything allowed).
    static func rule(_ rule: CrossTenantAccessRule) -> String {
      guard rule.accessType != .unspecified else { return "-" }
      let name = Display.shortName(rule.accessType).lowercased()
      let targets = rule.targets.map { "\(Display.shortName($0.targetType).lowercased()):\($0.targetID)" }
      return targets.isEmpty ? name : "\(name): " + targets.joined(separator: ",")
    }
  }

  /// `cross-tenant set [--partner ID] --inbound-users block …`.
  struct Set: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change the default entry, or a partner's entry with --partner; rules not named keep their value.",
      discussion: """
        A rule is allow (only its targets are allowed; no targets: everyone), block (its targets are blocked; \
        no targets: everyone) or unset (a partner entry inherits the default's). Targets replace a rule's \
        targets: --targets RULE=TYPE:ID,… with RULE one of inbound-users, inbound-apps, outbound-users, \
        outbound-apps and TYPE user, group or app (bare ids are users, or apps in the apps rules); \
        `--targets inbound-users=` clears them. A partner entry whose rules are all unset is deleted.
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The partner tenant; omitted: the default entry.") var partner: String = ""
    @Option(name: .customLong("inbound-users"), help: "Partner users and groups coming in as guests.") var inboundUsers: RuleSetting?
    @Option(name: .customLong("inbound-apps"), help: "This tenant's applications they may use.") var inboundApps: RuleSetting?
    @Option(name: .customLong("outbound-users"), help: "This tenant's users and groups going to the partner.") var outboundUsers: RuleSetting?
    @Option(name: .customLong("outbound-apps"), help: "The partner's applications they may use.") var outboundApps: RuleSetting?
    @Option(help: ArgumentHelp("A rule's targets (repeatable), e.g. inbound-users=group:grp_1,user:usr_2.", valueName: "rule=targets"))
    var targets: [RuleTargets] = []

    func validate() throws {
      guard inboundUsers != nil || inboundApps != nil || outboundUsers != nil || outboundApps != nil || !targets.isEmpty else {
        throw ValidationError("name a rule to change: --inbound-users, --inbound-apps, --outbound-users, --outbound-apps or --targets")
      }
    }

    mutating func run() async throws {
      let partner = self.partner
      let updates: [(RuleSetting.Path, RuleSetting?)] = [
        (.inboundUsers, inboundUsers), (.inboundApps, inboundApps), (.outboundUsers, outboundUsers), (.outboundApps, outboundApps),
      ]
      let targets = self.targets
      let tenantID = global.tenantID
      let stored = try await global.perform { client in
        let policy = try await client.tenants.getCrossTenantAccess(GetCrossTenantAccessRequest(tenantID: tenantID, partnerTenantID: partner))
        var entry = partner.isEmpty
          ? policy.defaultEntry : policy.partners.first { $0.partnerTenantID == partner } ?? CrossTenantAccessEntry(partnerTenantID: partner)
        for (path, setting) in updates {
          guard let setting else { continue }
          entry[rule: path].accessType = setting.accessType
          if setting == .unset { entry[rule: path].targets = [] }
        }
        for target in targets { entry[rule: target.path].targets = target.targets }
        return try await client.tenants.setCrossTenantAccess(SetCrossTenantAccessRequest(tenantID: tenantID, entry: entry))
      }
      try global.output(stored) { Show.table([stored]).render() }
    }
  }
}
