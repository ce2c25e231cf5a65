import ArgumentParser
import GuestAccessClient

/// `guestctl credential …`: API keys.
struct CredentialCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "credential", abstract: "Issue, rotate, revoke and list API keys.",
    subcommands: [Issue.self, Rotate.self, Revoke.self, RetireBootstrap.self, List.self])

  /// `credential issue [--user ID] [--name LABEL] [--expires-days N] [--operator] [--bind-certificate IDENTITY]`.
  struct Issue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Issue an API key; prints its secret (shown once).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The user the key authenticates (default: yourself).") var user: String = ""
    @Option(help: "A label, e.g. billing-service.") var name: String = ""
    @Option(name: .customLong("expires-days"), help: "Lifetime in days (default: never expires).") var expiresDays: Int64?
    @Flag(name: .customLong("operator"), help: "An operator key (operator only).") var isOperator = false
    @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""
    @Option(
      name: .customLong("bind-certificate"),
      help: "Only accept the key over mutual TLS from a client certificate with this URI SAN or subject DN (e.g. spiffe://example.com/billing).")
    var bindCertificate: String = ""

    mutating func run() async throws {
      let request = IssueCredentialRequest(
        tenantID: global.tenantID, idempotencyKey: idempotencyKey, principalType: isOperator ? .operator : .unspecified, userID: user,
        displayName: name, expiresInSeconds: (expiresDays ?? 0) * 86_400, clientCertificateIdentity: bindCertificate)
      let response = try await global.perform { try await $0.tenants.issueCredential(request) }
      try global.output(response) { DetailView.render(response) }
      if global.isText && !response.secret.isEmpty { Console.error("note: the secret is shown only once; keep it safe") }
    }
  }

  /// `credential rotate ID [--grace 1d] [--expires-days N]`.
  struct Rotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Replace an API key: prints the new secret (shown once); the old key works until the grace period ends.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Credential id of the key to replace.") var id: String
    @Option(help: "How long the old key keeps working, e.g. 3600, 12h, 7d (default 1d, at most 30d).") var grace: DurationArgument?
    @Option(name: .customLong("expires-days"), help: "Lifetime of the new key in days (default: the old key's lifetime).")
    var expiresDays: Int64?
    @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""

    mutating func run() async throws {
      let request = RotateCredentialRequest(
        tenantID: global.tenantID, idempotencyKey: idempotencyKey, credentialID: id, gracePeriodSeconds: grace?.seconds ?? 0,
        expiresInSeconds: (expiresDays ?? 0) * 86_400)
      let response = try await global.perform { try await $0.tenants.rotateCredential(request) }
      try global.output(response) { DetailView.render(response) }
      if global.isText && !response.secret.isEmpty {
        Console.error("note: the new secret is shown only once; the old key stops working at \(Display.time(response.replaced.revokeAt))")
      }
    }
  }

  /// `credential retire-bootstrap`.
  struct RetireBootstrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "retire-bootstrap",
      abstract: "Revoke the operator key guestd wrote to operator.key on its first start and delete that file (operator only; "
        + "issue another operator key first).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Why, recorded in the audit log.") var reason: String = ""

    mutating func run() async throws {
      let request = RetireBootstrapCredentialRequest(reason: reason)
      let response = try await global.perform { try await $0.tenants.retireBootstrapCredential(request) }
      try global.output(response) { DetailView.render(response) }
    }
  }

  /// `credential revoke ID`.
  struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke an API key at once.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Credential id.") var id: String

    mutating func run() async throws {
      let request = RevokeCredentialRequest(tenantID: global.tenantID, credentialID: id)
      let credential = try await global.perform { try await $0.tenants.revokeCredential(request) }
      try global.output(credential) { DetailView.render(credential) }
    }
  }

  /// `credential list [--user ID] [--operator] [--state S]`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List API keys (never their secrets), newest first.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only this user's keys.") var user: String = ""
    @Flag(name: .customLong("operator"), help: "Operator keys (operator only).") var isOperator = false
    @Option(help: "Only keys in this state.") var state: CredentialState?

    mutating func run() async throws {
      let (tenantID, user, type, state) = (global.tenantID, user, isOperator ? CredentialPrincipalType.operator : .unspecified, state ?? .unspecified)
      let (keys, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.tenants.listCredentials(ListCredentialsRequest(
            tenantID: tenantID, pageSize: size, pageToken: token, userID: user, principalType: type, state: state))
          return (response.credentials, response.nextPageToken)
        }
      }
      try global.output(ListCredentialsResponse(credentials: keys, nextPageToken: next), next: next) {
        Table.credentials(keys).render(empty: "no credentials")
      }
    }
  }
}
