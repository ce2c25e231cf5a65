import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// Authenticates every call but Health (and the anonymous redemption
/// methods): bearer credential → hash → stored credential (compared in
/// constant time) → user, tenant and, for a guest acting in another tenant
/// (metadata `tenant`), its guest object there and the cross-tenant rules.
///
/// A bearer value with dots is a JWT of a tenant's identity provider rather
/// than an API key (API and operator keys are base64url, without dots): it is
/// verified by `ProviderTokenAuthenticator` and names a user by the federated
/// link of its `(iss, sub)` (docs/FEDERATION.md, "Provider tokens on the RPC").
///
/// Successful results are kept in a `PrincipalCache` by credential (or token) hash and
/// acting tenant and reused only while `DirectoryStore.authGeneration` is
/// unchanged (any committed change to what this reads moves it before the
/// change is acknowledged) and no time limit has passed; so a known
/// credential costs no database read, and a revocation, block, role or rule
/// change still applies to the very next call.
public final class AuthInterceptor: SynchronousServerInterceptor {
  let store: any DirectoryStore
  let clock: any ServerClock
  /// Methods callable without a credential.
  let anonymousMethods: Set<String>
  let activity: ActivityRecorder
  let principals: PrincipalCache
  /// Verifies provider tokens; nil where they are not accepted.
  let providerTokens: ProviderTokenAuthenticator?

  /// Creates the interceptor; with `providerKeys`, provider JWTs are accepted
  /// as bearer credentials too (their issuers' keys come from that cache).
  public init(store: any DirectoryStore, clock: any ServerClock, anonymousMethods: Set<String>, providerKeys: ProviderKeyCache? = nil) {
    self.store = store
    self.clock = clock
    self.anonymousMethods = anonymousMethods
    activity = ActivityRecorder(store: store, clock: clock)
    principals = PrincipalCache()
    providerTokens = providerKeys.map { ProviderTokenAuthenticator(store: store, keys: $0) }
  }

  public func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
    if context.method.service == Health.serviceName {
      try await next(context)
      return
    }
    guard let header = context.metadata["authorization"] else {
      if anonymousMethods.contains(context.method.path) {
        try await next(context)
        return
      }
      throw RPCError.unauthenticated("missing authorization metadata (Bearer credential)", reason: .credentialMissing)
    }
    guard header.hasPrefix("Bearer "), header.count > 7 else {
      throw RPCError.unauthenticated("authorization must be \"Bearer <secret>\"", reason: .credentialMalformed)
    }
    let secret = String(header.dropFirst(7))
    let hash = Secrets.hash(secret)
    // ListMyGuestTenants lists the caller's guest links from its home account, whatever tenant the metadata names.
    let actingTenant = context.method.path == GuestService.Method.listMyGuestTenants.path ? "" : context.metadata["tenant"] ?? ""
    let now = clock.nowMillis()
    let key = PrincipalCache.Key(secretHash: hash, actingTenant: actingTenant)
    // Read before the snapshot begins: a change committed after this moves it and voids the entry.
    let generation = store.authGeneration
    let principal: Principal
    if let cached = principals.principal(for: key, generation: generation, now: now) {
      principal = cached
    } else if ProviderTokenAuthenticator.isToken(secret) {
      guard let providerTokens else {
        throw RPCError.unauthenticated("identity provider tokens are not accepted here", reason: .tokenIssuerUnknown)
      }
      principal = try await providerTokens.authenticate(token: secret, actingTenant: actingTenant, now: now)
      principals.store(principal, for: key, generation: generation)
    } else {
      principal = try await store.read { reader in
        try Self.authenticate(secretHash: hash, actingTenant: actingTenant, now: now, reader: reader)
      }
      principals.store(principal, for: key, generation: generation)
    }
    try Self.checkCertificate(principal, context.peerCertificate)
    activity.record(principal, now: now)
    var context = context
    context[PrincipalKey.self] = principal
    try await next(context)
  }

  /// The synchronous path is for calls that need no credential: Health, and
  /// an anonymous method called without `authorization` (a call that sends
  /// one has it checked, which may read the database).
  public func allowsSynchronousCall(_ context: ServerContext) -> Bool {
    needsNoCredential(context)
  }

  public func interceptSynchronously(context: ServerContext, next: (ServerContext) throws -> Void) throws {
    guard needsNoCredential(context) else {
      throw RPCError(code: .internalError, message: "a call that needs a credential took the synchronous path")
    }
    try next(context)
  }

  private func needsNoCredential(_ context: ServerContext) -> Bool {
    context.method.service == Health.serviceName
      || (context.metadata["authorization"] == nil && anonymousMethods.contains(context.method.path))
  }

  /// A credential bound to a client certificate identity works only over a
  /// connection whose verified client certificate carries that identity.
  static func checkCertificate(_ principal: Principal, _ certificate: PeerCertificate?) throws {
    guard !principal.certificateIdentity.isEmpty else { return }
    guard let certificate else {
      throw RPCError.unauthenticated(
        "this credential is bound to a client certificate: call over mutual TLS with it", reason: .credentialCertificateMismatch)
    }
    guard certificate.matches(principal.certificateIdentity) else {
      throw RPCError.unauthenticated(
        "this credential is bound to another client certificate than the one presented", reason: .credentialCertificateMismatch)
    }
  }

  static func authenticate(secretHash hash: [UInt8], actingTenant: String, now: Int64, reader: any DirectoryReader) throws -> Principal {
    guard let found = try reader.credential(secretHash: hash), Secrets.constantTimeEqual(found.storedHash, hash) else {
      throw RPCError.unauthenticated("unknown credential", reason: .credentialUnknown)
    }
    let credential = found.credential
    let lifetime = credential.principalType == .operator
      ? CredentialLifetime.unlimited : CredentialLifetime(settings: try reader.settings(tenantID: credential.tenantID))
    switch lifetime.state(of: credential, now: now) {
    case .revoked:
      let rotated = credential.revokedAt == 0
      throw RPCError.unauthenticated(rotated ? "credential rotated: its grace period has ended" : "credential revoked", reason: .credentialRevoked)
    case .expired:
      let aged = credential.expiresAt == 0 || credential.expiresAt > now
      throw RPCError.unauthenticated(aged ? "credential expired: older than the tenant's maximum key lifetime" : "credential expired",
                            reason: .credentialExpired)
    default:
      break
    }
    let endsAt = lifetime.endsAt(credential)
    if credential.principalType == .operator {
      return Principal(kind: .operator, credentialID: credential.id, homeUser: nil, actingUser: nil, credentialExpiresAt: endsAt,
                       certificateIdentity: credential.clientCertificateIdentity)
    }
    guard let user = try reader.user(tenantID: credential.tenantID, id: credential.userID), user.deletedAt == 0 else {
      throw RPCError.unauthenticated("the credential's user no longer exists", reason: .credentialUserDeleted)
    }
    return Principal(kind: .user, credentialID: credential.id, homeUser: user,
                     actingUser: try actingUser(of: user, in: actingTenant, now: now, reader: reader), credentialExpiresAt: endsAt,
                     certificateIdentity: credential.clientCertificateIdentity)
  }

  /// The user object `user` (not deleted) acts as in `actingTenant`: itself
  /// ("" or its own tenant), or its guest object there, after every check
  /// of both (tenant state, blocks, redemption, expiry, home account,
  /// cross-tenant rules). Shared by API keys and provider tokens.
  static func actingUser(of user: User, in actingTenant: String, now: Int64, reader: any DirectoryReader) throws -> User {
    try checkUsable(user, tenantID: user.tenantID, now: now, reader: reader)
    try checkHomeAccount(of: user, now: now, reader: reader)
    guard !actingTenant.isEmpty, actingTenant != user.tenantID else { return user }
    let links = try reader.guestLinks(homeUserID: user.id).filter { $0.tenantID == actingTenant }
    guard let guest = links.first(where: { $0.deletedAt == 0 }) else {
      // Only the caller's own links decide: whether the tenant exists, or has a pending invitation
      // for the caller's address, is not revealed (docs/SECURITY.md, "What answers reveal").
      if !links.isEmpty { throw RPCError.permissionDenied("your guest access to this tenant was removed", reason: .guestRemoved) }
      throw RPCError.permissionDenied("you are not a guest of tenant \(actingTenant.prefix(64))", reason: .notAGuest)
    }
    try checkUsable(guest, tenantID: actingTenant, now: now, reader: reader)
    let allowed = try CrossTenantEvaluator(reader: reader).usersAllowed(
      resourceTenantID: actingTenant, homeTenantID: user.tenantID, homeUserID: user.id)
    guard allowed else {
      throw RPCError.permissionDenied("cross-tenant access settings block this collaboration", reason: .crossTenantBlocked)
    }
    return guest
  }

  /// Refuses a user that may not act in `tenantID` now: a disabled tenant, a
  /// blocked user, an unredeemed guest, expired access.
  static func checkUsable(_ user: User, tenantID: String, now: Int64, reader: any DirectoryReader) throws {
    guard let tenant = try reader.tenant(id: tenantID), tenant.state == .active else {
      throw RPCError.permissionDenied("tenant is disabled", reason: .tenantDisabled)
    }
    if !user.accountEnabled { throw RPCError.permissionDenied("sign-in is blocked for this user", reason: .signInBlocked) }
    if user.userType == .guest && user.externalUserState != .accepted {
      throw RPCError.permissionDenied("the invitation has not been redeemed", reason: .guestNotRedeemed)
    }
    // Guests and invited members alike: access ends at access_expires_at.
    if user.accessExpiresAt != 0 && user.accessExpiresAt <= now {
      throw RPCError.permissionDenied("access has expired", reason: .accessExpired)
    }
  }

  /// A credential held by an external user's own object (one redeemed with a home
  /// credential; new keys for such users are refused, older ones may exist) works
  /// only while its home account and both tenants' cross-tenant rules still do.
  private static func checkHomeAccount(of user: User, now: Int64, reader: any DirectoryReader) throws {
    guard let identity = user.identities.first(where: { $0.signInType == .homeTenant }) else { return }
    guard let home = try reader.user(tenantID: identity.issuer, id: identity.issuerAssignedID), home.deletedAt == 0 else {
      throw RPCError.unauthenticated("the credential's home user no longer exists", reason: .credentialUserDeleted)
    }
    try checkUsable(home, tenantID: home.tenantID, now: now, reader: reader)
    let allowed = try CrossTenantEvaluator(reader: reader).usersAllowed(
      resourceTenantID: user.tenantID, homeTenantID: home.tenantID, homeUserID: home.id)
    guard allowed else {
      throw RPCError.permissionDenied("cross-tenant access settings block this collaboration", reason: .crossTenantBlocked)
    }
  }
}
