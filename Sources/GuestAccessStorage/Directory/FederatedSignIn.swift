import GuestAccessProto

/// A redemption through an identity provider in progress, from
/// BeginFederatedRedemption until the provider sends the browser back: what
/// the callback needs, keyed by the keyed hash of its `state` (the state
/// itself is never stored). The PKCE code verifier is stored sealed; the
/// nonce is no secret (it travels in the authorization URL).
public struct FederatedSignIn: Sendable, Hashable {
  /// Open until its state is used once; then completed (whatever the outcome).
  public enum State: Int64, Sendable {
    case open = 1
    case completed = 2
  }

  /// The keyed hash of the `state` parameter.
  public var stateHash: [UInt8]
  /// The invitation being redeemed, and its (inviting) tenant.
  public var invitationID: String
  public var tenantID: String
  /// The provider signed in with, and the tenant it belongs to (the inviting
  /// tenant for a PARTNER provider, the invitee's home tenant for MEMBERS).
  public var providerID: String
  public var providerTenantID: String
  /// The redemption step: `RedemptionStep` raw value (HOME_TENANT or PARTNER_PROVIDER).
  public var step: Int64
  /// The `nonce` sent, which the ID token must carry.
  public var nonce: String
  /// The PKCE code verifier, sealed by the server.
  public var sealedVerifier: [UInt8]
  /// When the state stops working (ms).
  public var expiresAt: Int64
  /// Open or completed.
  public var state: State
  /// When it began (ms).
  public var createdAt: Int64

  /// Creates a federated sign-in.
  public init(
    stateHash: [UInt8], invitationID: String, tenantID: String, providerID: String, providerTenantID: String, step: Int64,
    nonce: String, sealedVerifier: [UInt8], expiresAt: Int64, state: State, createdAt: Int64
  ) {
    self.stateHash = stateHash
    self.invitationID = invitationID
    self.tenantID = tenantID
    self.providerID = providerID
    self.providerTenantID = providerTenantID
    self.step = step
    self.nonce = nonce
    self.sealedVerifier = sealedVerifier
    self.expiresAt = expiresAt
    self.state = state
    self.createdAt = createdAt
  }
}

/// Queries of federated sign-ins.
public protocol FederatedSignInReader {
  /// The federated sign-in whose state hashes to `stateHash`.
  func federatedSignIn(stateHash: [UInt8]) throws -> FederatedSignIn?
}

/// Changes to federated sign-ins.
public protocol FederatedSignInWriter: FederatedSignInReader {
  /// Inserts a federated sign-in, or replaces its state.
  func putFederatedSignIn(_ signIn: FederatedSignIn) throws
  /// Deletes federated sign-ins created at or before `time`; returns how many.
  func deleteFederatedSignIns(createdBy time: Int64, limit: Int) throws -> Int
}
