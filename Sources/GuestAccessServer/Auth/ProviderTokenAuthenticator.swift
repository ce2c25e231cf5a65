import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// `authorization: Bearer <JWT>` from a tenant's identity provider: an ID
/// token (its `aud` has the provider's client id) or an access token for one
/// of the provider's `access_token_audiences`, never with a nonce.
///
/// 1. The token's `iss` picks the providers of every tenant with that issuer
///    (an index). None: TOKEN_ISSUER_UNKNOWN, decided before the `tenant`
///    metadata is looked at, so it says nothing about any tenant.
/// 2. What all those providers share is checked before any tenant is: `alg`
///    (never `none` or HMAC), the issuer's key by `kid` (fetched or refetched
///    as `ProviderKeyCache` allows), the signature, `iss`, `aud` among all their
///    audiences, `exp`/`nbf`/`iat` with the skew. Each failure has its TOKEN_* reason.
/// 3. A provider may authenticate only its own tenant's users, and only when it
///    accepts the token itself (its algorithms, its audiences): a MEMBERS
///    provider its members, a PARTNER provider its guests, each by the link of
///    `(iss, sub)` in that tenant. With `tenant` metadata, the acting tenant's own
///    providers come first (its member, or its federated guest); then a MEMBERS
///    provider of another tenant names that tenant's member, who acts there as a
///    guest exactly as with an API key. Nothing found — no link, a tenant that does not
///    trust the issuer, or no such tenant, alike — is FEDERATED_IDENTITY_UNLINKED.
struct ProviderTokenAuthenticator: Sendable {
  let store: any DirectoryStore
  let keys: ProviderKeyCache

  /// Whether a bearer value is a JWT: API and operator keys are base64url, without dots.
  static func isToken(_ bearer: String) -> Bool {
    bearer.utf8.contains(UInt8(ascii: "."))
  }

  /// The principal of `token` acting in `actingTenant` ("" = at home) at `now`;
  /// it is valid until the token's `exp` plus the skew.
  func authenticate(token: String, actingTenant: String, now: Int64) async throws -> Principal {
    let parsed = try await Self.refused { () throws(TokenRefusal) in try IDTokenValidator.parse(token) }
    let issuer = parsed.claimedIssuer
    // Only a configured issuer's keys are ever fetched: the token cannot send the server anywhere.
    let providers = issuer.isEmpty ? [] : try await store.read { try $0.identityProviders(issuer: issuer) }.map(\.provider)
    guard !providers.isEmpty else {
      throw RPCError.unauthenticated("no identity provider of this server has the token's issuer", reason: .tokenIssuerUnknown)
    }
    let (verified, accepting) = try await Self.refused { () async throws(TokenRefusal) in
      try await verify(parsed, issuer: issuer, providers: providers, now: now)
    }
    let (home, acting) = try await store.read { reader in
      try Self.resolve(verified, accepting: accepting, actingTenant: actingTenant, now: now, reader: reader)
    }
    let skew = IDTokenValidator.skew.components.seconds * 1000
    return Principal(kind: .user, credentialID: "", homeUser: home, actingUser: acting, credentialExpiresAt: verified.expiresAt + skew)
  }

  /// The checks every provider of the issuer shares, then the providers that accept the token exactly.
  private func verify(
    _ parsed: IDTokenValidator.Parsed, issuer: String, providers: [IdentityProvider], now: Int64
  ) async throws(TokenRefusal) -> (VerifiedToken, [IdentityProvider]) {
    let validators = providers.map { IDTokenValidator(provider: $0.oidc, withAccessTokenAudiences: true) }
    var shared = validators[0]
    shared.audiences = Array(Set(validators.flatMap(\.audiences)))
    shared.allowedAlgorithms = Array(Set(validators.flatMap(\.allowedAlgorithms)))
    // Before any key is looked at: `none` and HMAC never get that far.
    try shared.checkAlgorithm(parsed.algorithm)
    let key = try await keys.key(issuer: issuer, for: parsed)
    let verified = try shared.validate(parsed, key: key, nowMillis: now, nonce: nil)
    let accepting = zip(providers, validators).filter { _, validator in
      (try? validator.validate(parsed, key: key, nowMillis: now, nonce: nil)) != nil
    }.map(\.0)
    return (verified, accepting)
  }

  /// The home user and the acting user of a verified token (step 3 above).
  static func resolve(
    _ token: VerifiedToken, accepting: [IdentityProvider], actingTenant: String, now: Int64, reader: any DirectoryReader
  ) throws -> (home: User, acting: User) {
    let links = try reader.federatedLinks(issuer: token.issuer, subject: token.subject)
    /// The user of the provider's tenant linked to the token, when it is one the provider may authenticate.
    func linked(_ provider: IdentityProvider) throws -> User? {
      guard let link = links.first(where: { $0.tenantID == provider.tenantID }),
        let user = try reader.user(tenantID: link.tenantID, id: link.userID)
      else { return nil }
      return user.userType == (provider.use == .members ? .member : .guest) ? user : nil
    }
    func acting(_ user: User) throws -> (home: User, acting: User) {
      guard user.deletedAt == 0 else {
        if user.userType == .guest { throw RPCError.permissionDenied("your guest access to this tenant was removed", reason: .guestRemoved) }
        throw RPCError.unauthenticated("the user linked to this identity no longer exists", reason: .credentialUserDeleted)
      }
      return (user, try AuthInterceptor.actingUser(of: user, in: actingTenant, now: now, reader: reader))
    }
    if !actingTenant.isEmpty {
      for provider in accepting where provider.tenantID == actingTenant {
        if let user = try linked(provider) { return try acting(user) }
      }
    }
    var members: [User] = []
    for provider in accepting where provider.use == .members && provider.tenantID != actingTenant {
      if let user = try linked(provider) { members.append(user) }
    }
    if !actingTenant.isEmpty && members.count > 1 {
      // Several home accounts: the one that is a guest of the acting tenant decides.
      var guests: [User] = []
      for user in members where try reader.guestLinks(homeUserID: user.id).contains(where: { $0.tenantID == actingTenant }) {
        guests.append(user)
      }
      if guests.count == 1 { members = guests }
    }
    guard let member = members.first else {
      throw RPCError.unauthenticated(
        actingTenant.isEmpty
          ? "no member is linked to this identity (a partner's guest names the tenant in `tenant` metadata)"
          : "no user of tenant \(actingTenant.prefix(64)) is linked to this identity through a provider that accepts this token",
        reason: .federatedIdentityUnlinked)
    }
    guard members.count == 1 else {
      throw RPCError.unauthenticated(
        "this identity is linked to members of several tenants: name one in `tenant` metadata", reason: .federatedIdentityAmbiguous)
    }
    return try acting(member)
  }

  /// `body`'s refusal as the RPC error it answers.
  private static func refused<T>(_ body: () async throws(TokenRefusal) -> T) async throws(RPCError) -> T {
    do {
      return try await body()
    } catch {
      throw error.rpcError
    }
  }
}
