import ArgumentParser
import GuestAccessClient
import GuestAccessProto
import GuestAccessStorage

/// Creates a tenant whose member signs in through an OpenID provider
/// (MEMBERS) and also holds an API key; prints `tenant_id user_id api_key`.
struct FederatedMember: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "federated-member", abstract: "Create a tenant with a MEMBERS provider and a member with an API key; print tenant, user and key.")

  @OptionGroup var target: LoadTarget
  @Option var key: String
  @Option var name: String
  @Option var issuer: String
  @Option(name: .customLong("client-id")) var clientID: String

  mutating func run() async throws {
    let endpoint = try target.endpoint
    let op = GuestAccessClient(host: endpoint.host, port: endpoint.port, credential: key, tls: endpoint.tls)
    defer { op.close() }
    let created = try await op.tenants.createTenant(CreateTenantRequest(
      displayName: name, verifiedDomains: ["\(name).example"], adminMail: "admin@\(name).example"))
    let admin = GuestAccessClient(host: endpoint.host, port: endpoint.port, credential: created.adminSecret, tls: endpoint.tls)
    defer { admin.close() }
    _ = try await admin.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: IdentityProvider(
      displayName: "Bench provider", kind: .openidConnect, use: .members, oidc: OpenIDConnectSettings(issuer: issuer, clientID: clientID))))
    let user = try await admin.tenants.createUser(CreateUserRequest(displayName: "Bench User", mail: "user@\(name).example"))
    let issued = try await admin.tenants.issueCredential(IssueCredentialRequest(userID: user.id, displayName: "bench"))
    print("\(created.tenant.id) \(user.id) \(issued.secret)")
  }
}

/// Links a provider's `(issuer, sub)` to a user, as a first sign-in does,
/// directly through the store of a stopped guestd's data directory.
struct LinkIdentity: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "link-identity", abstract: "Link (issuer, sub) to a user in a stopped guestd's data directory.")

  @Option(name: .customLong("data-dir")) var dataDir: String
  @Option var issuer: String
  @Option var subject: String
  @Option var tenant: String
  @Option var user: String

  mutating func run() async throws {
    let store = try SQLiteDirectoryStore(path: dataDir + "/guestaccess.sqlite", readerCount: 1)
    defer { store.close() }
    let (issuer, subject, link) = (issuer, subject, FederatedLink(tenantID: tenant, userID: user))
    try await store.write { writer in
      guard try writer.user(tenantID: link.tenantID, id: link.userID) != nil else { throw ValidationError("no user \(link.userID) in \(link.tenantID)") }
      try writer.linkFederatedIdentity(issuer: issuer, subject: subject, link)
    }
  }
}
