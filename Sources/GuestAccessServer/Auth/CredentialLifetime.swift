import GuestAccessProto

/// When a key stops working: its own `expires_at`, its tenant's maximum key
/// lifetime (`TenantSettings.max_credential_lifetime_days`, applied to keys
/// issued before it was lowered too), the end of a rotation's grace period
/// (`revoke_at`) or its revocation. The one place these rules are read, by
/// authentication, the credential RPCs and the redemption that issues keys.
struct CredentialLifetime: Sendable {
  /// The tenant's maximum key lifetime in milliseconds; 0 = none.
  let maxMillis: Int64

  /// No maximum (operator keys, which belong to no tenant).
  static let unlimited = CredentialLifetime(maxMillis: 0)

  private static let dayMillis: Int64 = 86_400_000

  /// The limit `settings` set (nil: a tenant without stored settings).
  init(settings: TenantSettings?) {
    maxMillis = Int64(max(settings?.maxCredentialLifetimeDays ?? 0, 0)) * Self.dayMillis
  }

  private init(maxMillis: Int64) {
    self.maxMillis = maxMillis
  }

  /// The expiry of a key issued at `now` that asks for `requested` (0 =
  /// never): no later than the tenant's maximum allows.
  func cap(_ requested: Int64, issuedAt now: Int64) -> Int64 {
    guard maxMillis > 0 else { return requested }
    let limit = now + maxMillis
    return requested == 0 || requested > limit ? limit : requested
  }

  /// When `credential` expires (0 = never): its own expiry or its age reaching the maximum.
  func expiresAt(_ credential: Credential) -> Int64 {
    guard maxMillis > 0 else { return credential.expiresAt }
    let limit = credential.createdAt + maxMillis
    return credential.expiresAt == 0 || credential.expiresAt > limit ? limit : credential.expiresAt
  }

  /// The first instant at which `credential` no longer works (0 = none known
  /// now): expiry or the end of a rotation's grace period.
  func endsAt(_ credential: Credential) -> Int64 {
    let expiry = expiresAt(credential)
    let revocation = credential.revokeAt
    if expiry == 0 { return revocation }
    if revocation == 0 { return expiry }
    return min(expiry, revocation)
  }

  /// Whether `credential` is revoked at `now`: revoked outright, or rotated and past its grace period.
  static func isRevoked(_ credential: Credential, now: Int64) -> Bool {
    credential.revokedAt != 0 || (credential.revokeAt != 0 && credential.revokeAt <= now)
  }

  /// Whether `credential` works at `now`.
  func isActive(_ credential: Credential, now: Int64) -> Bool {
    state(of: credential, now: now) == .active
  }

  /// ACTIVE, EXPIRED or REVOKED at `now`.
  func state(of credential: Credential, now: Int64) -> CredentialState {
    if Self.isRevoked(credential, now: now) { return .revoked }
    let expiry = expiresAt(credential)
    return expiry != 0 && expiry <= now ? .expired : .active
  }

  /// `credential` as the API shows it at `now`: its state, and `expires_at` as the maximum lifetime made it.
  func presented(_ credential: Credential, now: Int64) -> Credential {
    var credential = credential
    credential.state = state(of: credential, now: now)
    credential.expiresAt = expiresAt(credential)
    return credential
  }
}
