import GuestAccessProto

/// An identity provider as stored: the provider without its client secret,
/// and that secret sealed by the server (never stored in clear).
public struct StoredIdentityProvider: Sendable, Hashable {
  /// The provider; `oidc.client_secret` is always empty here.
  public var provider: IdentityProvider
  /// The sealed client secret (empty = none).
  public var sealedSecret: [UInt8]

  /// Creates a stored provider.
  public init(provider: IdentityProvider, sealedSecret: [UInt8]) {
    self.provider = provider
    self.provider.oidc.clientSecret = ""
    self.provider.oidc.clientSecretSet = !sealedSecret.isEmpty
    self.sealedSecret = sealedSecret
  }
}

/// A person's link to a user by a federated identity: the provider's issuer
/// and its `sub`.
public struct FederatedLink: Sendable, Hashable {
  /// The tenant of the linked user.
  public var tenantID: String
  /// The linked user (a member, or a guest of the tenant).
  public var userID: String

  /// Creates a link.
  public init(tenantID: String, userID: String) {
    self.tenantID = tenantID
    self.userID = userID
  }
}

/// Queries of identity providers and federated identities.
public protocol IdentityProviderReader {
  /// A tenant's providers, ordered by id.
  func identityProviders(tenantID: String) throws -> [StoredIdentityProvider]
  /// A provider of a tenant.
  func identityProvider(tenantID: String, id: String) throws -> StoredIdentityProvider?
  /// Every tenant's providers with `issuer`, ordered by id.
  func identityProviders(issuer: String) throws -> [StoredIdentityProvider]
  /// The users linked to `(issuer, subject)`, ordered by tenant.
  func federatedLinks(issuer: String, subject: String) throws -> [FederatedLink]
}

/// Changes to identity providers and federated identities.
public protocol IdentityProviderWriter: IdentityProviderReader {
  /// Inserts or replaces a provider.
  func putIdentityProvider(_ provider: StoredIdentityProvider) throws
  /// Deletes a provider; returns whether it existed.
  func deleteIdentityProvider(tenantID: String, id: String) throws -> Bool
  /// Links `(issuer, subject)` to a user of a tenant (replacing the tenant's previous link).
  func linkFederatedIdentity(issuer: String, subject: String, _ link: FederatedLink) throws
  /// Drops every link to `userID`.
  func unlinkFederatedIdentities(userID: String) throws
}
