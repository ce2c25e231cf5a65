/// A passcode sign-in of an accepted email passcode guest in progress: the
/// passcode is stored hashed and follows the redemption's rules (lifetime,
/// attempts). A session of an address that may not sign in has no guest
/// (`userID` empty) and a hash no passcode matches, so it answers like any
/// other without revealing that.
public struct SignInSession: Sendable, Hashable {
  /// Opaque id handed to the client.
  public var id: String
  /// The tenant signed in to.
  public var tenantID: String
  /// The guest signing in; empty when the address may not sign in.
  public var userID: String
  /// The address the sign-in was asked for, lower-cased.
  public var email: String
  /// The keyed hash of the passcode (bound to the session id).
  public var passcodeHash: [UInt8]
  /// When the passcode stops working (ms).
  public var expiresAt: Int64
  /// Wrong attempts so far.
  public var attempts: Int
  /// Wrong attempts allowed.
  public var maxAttempts: Int
  /// Open, completed, or closed (replaced or out of attempts).
  public var state: RedemptionSession.State
  /// When it was created (ms).
  public var createdAt: Int64

  /// Creates a session.
  public init(
    id: String, tenantID: String, userID: String, email: String, passcodeHash: [UInt8], expiresAt: Int64, attempts: Int,
    maxAttempts: Int, state: RedemptionSession.State, createdAt: Int64
  ) {
    self.id = id
    self.tenantID = tenantID
    self.userID = userID
    self.email = email
    self.passcodeHash = passcodeHash
    self.expiresAt = expiresAt
    self.attempts = attempts
    self.maxAttempts = maxAttempts
    self.state = state
    self.createdAt = createdAt
  }
}
