import ArgumentParser
import Foundation
import GuestAccessClient

/// `guestctl idp add|list|get|update|remove`: the tenant's identity providers (docs/FEDERATION.md).
struct IdpCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "idp", abstract: "Manage the tenant's OpenID Connect identity providers (members' sign-in, partner federation).",
    subcommands: [Add.self, List.self, Get.self, Update.self, Remove.self])

  /// The provider fields shared by add and update.
  struct ProviderOptions: ParsableArguments {
    @Option(help: "Display name shown on the redemption page.") var name: String?
    @Option(help: "The issuer, exactly as in the tokens' iss (https).") var issuer: String?
    @Option(name: .customLong("client-id"), help: "The client id registered at the provider.") var clientID: String?
    @Option(name: .customLong("client-secret-file"), help: ArgumentHelp(
      "A file holding the client secret on its first line (- = standard input); never given on the command line.", valueName: "path"))
    var clientSecretFile: String?
    @Option(help: ArgumentHelp("Scopes, comma separated (openid is always added).", valueName: "scopes")) var scopes: String?
    @Option(name: .customLong("email-claim"), help: "The claim holding the address (default email).") var emailClaim: String?
    @Option(help: ArgumentHelp("Allowed signing algorithms, comma separated (default RS256).", valueName: "algs")) var algorithms: String?
    @Option(name: .customLong("access-token-audiences"), help: ArgumentHelp(
      "Access token audiences accepted on the RPC besides the client id, comma separated.", valueName: "audiences"))
    var audiences: String?
    @Option(help: ArgumentHelp("PARTNER: the invited domains it vouches for, comma separated.", valueName: "domains")) var domains: String?

    /// Fills `provider` with the options given; returns the update mask.
    func apply(to provider: inout IdentityProvider) throws -> [String] {
      var mask: [String] = []
      if let name { provider.displayName = name; mask.append("display_name") }
      if let issuer { provider.oidc.issuer = issuer; mask.append("oidc.issuer") }
      if let clientID { provider.oidc.clientID = clientID; mask.append("oidc.client_id") }
      if let clientSecretFile { provider.oidc.clientSecret = try Self.secret(clientSecretFile); mask.append("oidc.client_secret") }
      if let scopes { provider.oidc.scopes = Self.split(scopes); mask.append("oidc.scopes") }
      if let emailClaim { provider.oidc.emailClaim = emailClaim; mask.append("oidc.email_claim") }
      if let algorithms { provider.oidc.allowedAlgorithms = Self.split(algorithms); mask.append("oidc.allowed_algorithms") }
      if let audiences { provider.oidc.accessTokenAudiences = Self.split(audiences); mask.append("oidc.access_token_audiences") }
      if let domains { provider.domains = Self.split(domains); mask.append("domains") }
      return mask
    }

    static func split(_ text: String) -> [String] {
      text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }

    /// The first line of `path` (or standard input for `-`).
    static func secret(_ path: String) throws -> String {
      let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
      guard let data, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first, !line.isEmpty else {
        throw ValidationError("cannot read a client secret from \(path)")
      }
      return String(line).trimmingCharacters(in: .whitespacesAndNewlines)
    }
  }

  /// `idp add --use partner --name N --issuer URL --client-id ID [--client-secret-file F] --domains D`.
  struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add an identity provider (GLOBAL_ADMIN or operator).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "members (the tenant's own users) or partner (guests of the given domains).") var use: IdentityProviderUse
    @OptionGroup var fields: ProviderOptions

    mutating func run() async throws {
      var provider = IdentityProvider(kind: .openidConnect, use: use)
      _ = try fields.apply(to: &provider)
      let request = CreateIdentityProviderRequest(tenantID: global.tenantID, provider: provider)
      let created = try await global.perform { try await $0.tenants.createIdentityProvider(request) }
      try global.output(created) { DetailView.render(created) }
    }
  }

  /// `idp list`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the tenant's identity providers.")
    @OptionGroup var global: GlobalOptions

    mutating func run() async throws {
      let response = try await global.perform { try await $0.tenants.listIdentityProviders(ListIdentityProvidersRequest(tenantID: global.tenantID)) }
      try global.output(response) {
        var table = Table("id", "name", "use", "issuer", "client id", "secret", "domains")
        for idp in response.providers {
          table.add(idp.id, idp.displayName, Display.name(idp.use), idp.oidc.issuer, idp.oidc.clientID,
                    Display.yesNo(idp.oidc.clientSecretSet), idp.domains.joined(separator: ","))
        }
        return table.render(empty: "no identity providers")
      }
    }
  }

  /// `idp get ID`.
  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an identity provider (never its client secret).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Provider id.") var id: String

    mutating func run() async throws {
      let provider = try await global.perform { try await $0.tenants.getIdentityProvider(GetIdentityProviderRequest(tenantID: global.tenantID, id: id)) }
      try global.output(provider) { DetailView.render(provider) }
    }
  }

  /// `idp update ID [fields]`.
  struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change an identity provider; only the options given change.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Provider id.") var id: String
    @OptionGroup var fields: ProviderOptions

    mutating func run() async throws {
      var provider = IdentityProvider(id: id)
      let mask = try fields.apply(to: &provider)
      guard !mask.isEmpty else { throw ValidationError("name at least one field to change") }
      let request = UpdateIdentityProviderRequest(tenantID: global.tenantID, provider: provider, updateMask: mask)
      let updated = try await global.perform { try await $0.tenants.updateIdentityProvider(request) }
      try global.output(updated) { DetailView.render(updated) }
    }
  }

  /// `idp remove ID`.
  struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove an identity provider.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Provider id.") var id: String

    mutating func run() async throws {
      let removed = try await global.perform { try await $0.tenants.deleteIdentityProvider(DeleteIdentityProviderRequest(tenantID: global.tenantID, id: id)) }
      try global.output(removed) { "removed \(removed.id) (\(removed.displayName))" }
    }
  }
}
