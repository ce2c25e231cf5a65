import ArgumentParser
import GuestAccessClient

/// `guestctl tenant …`: tenants (operator key).
struct TenantCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tenant", abstract: "Create, show, list, update and disable tenants (operator).",
    subcommands: [Create.self, Get.self, List.self, Update.self, Disable.self])

  /// `tenant create NAME --domain D --admin-mail M`.
  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a tenant with its first GLOBAL_ADMIN; prints the admin's key (shown once).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The tenant's display name.") var name: String
    @Option(name: .customLong("domain"), help: "A verified domain (repeatable).") var domains: [String] = []
    @Option(name: .customLong("admin-mail"), help: "Email of the first admin.") var adminMail: String
    @Option(name: .customLong("admin-name"), help: "Display name of the first admin (default: the email).") var adminName: String = ""
    @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""

    mutating func run() async throws {
      let request = CreateTenantRequest(
        idempotencyKey: idempotencyKey, displayName: name, verifiedDomains: domains, adminDisplayName: adminName, adminMail: adminMail)
      let response = try await global.perform { try await $0.tenants.createTenant(request) }
      try global.output(response) { DetailView.render(response) }
      if global.isText && !response.adminSecret.isEmpty { Console.error("note: admin_secret is shown only once; keep it safe") }
    }
  }

  /// `tenant get [ID]`.
  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a tenant (default: the caller's own).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Tenant id.") var id: String?

    mutating func run() async throws {
      let tenant = try await global.perform { try await $0.tenants.getTenant(GetTenantRequest(tenantID: id ?? global.tenantID)) }
      try global.output(tenant) { DetailView.render(tenant) }
    }
  }

  /// `tenant list`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List tenants.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only tenants in this state.") var state: TenantState?
    @Option(help: "Only the tenant that verified this domain.") var domain: String = ""

    mutating func run() async throws {
      let (tenants, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.tenants.listTenants(
            ListTenantsRequest(pageSize: size, pageToken: token, state: state ?? .unspecified, verifiedDomain: domain))
          return (response.tenants, response.nextPageToken)
        }
      }
      try global.output(ListTenantsResponse(tenants: tenants, nextPageToken: next), next: next) {
        Table.tenants(tenants).render(empty: "no tenants")
      }
    }
  }

  /// `tenant update ID --name N --domain D --state S`.
  struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change a tenant's name, verified domains (replacing them) or state.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Tenant id.") var id: String
    @Option(help: "New display name.") var name: String?
    @Option(name: .customLong("domain"), help: "New verified domain (repeatable; replaces the list).") var domains: [String] = []
    @Flag(name: .customLong("clear-domains"), help: "Remove every verified domain.") var clearDomains = false
    @Option(help: "New state: active (re-enable) or disabled.") var state: TenantState?

    func validate() throws {
      guard name != nil || !domains.isEmpty || clearDomains || state != nil else {
        throw ValidationError("name something to change: --name, --domain, --clear-domains or --state")
      }
    }

    mutating func run() async throws {
      var request = UpdateTenantRequest(tenantID: id)
      if let name { request.displayName = name; request.updateMask.append("display_name") }
      if !domains.isEmpty || clearDomains { request.verifiedDomains = domains; request.updateMask.append("verified_domains") }
      if let state { request.state = state; request.updateMask.append("state") }
      let tenant = try await global.perform { [request] in try await $0.tenants.updateTenant(request) }
      try global.output(tenant) { DetailView.render(tenant) }
    }
  }

  /// `tenant disable ID`.
  struct Disable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Disable a tenant: its calls and its users' guest access stop at once (re-enable with `tenant update ID --state active`).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Tenant id.") var id: String

    mutating func run() async throws {
      let tenant = try await global.perform { try await $0.tenants.disableTenant(DisableTenantRequest(tenantID: id)) }
      try global.output(tenant) { DetailView.render(tenant) }
    }
  }
}
