/// A one-time-passcode redemption in progress: the passcode is stored hashed,
/// lives 30 minutes and allows a limited number of attempts.
public struct RedemptionSession: Sendable, Hashable {
  /// Session state.
  public enum State: Int64, Sendable {
    /// Waiting for the passcode.
    case open = 1
    /// Completed successfully.
    case completed = 2
    /// Replaced by a newer session, or out of attempts.
    case closed = 3
  }

  /// Opaque id handed to the client.
  public var id: String
  /// The invitation being redeemed.
  public var invitationID: String
  /// The keyed hash of the passcode (HMAC-SHA256 with the server's hash key, bound to the session id).
  public var passcodeHash: [UInt8]
  /// When the passcode stops working (ms).
  public var expiresAt: Int64
  /// Wrong attempts so far.
  public var attempts: Int
  /// Wrong attempts allowed.
  public var maxAttempts: Int
  /// State.
  public var state: State
  /// When it was created (ms).
  public var createdAt: Int64

  /// Creates a session.
  public init(
    id: String, invitationID: String, passcodeHash: [UInt8], expiresAt: Int64, attempts: Int, maxAttempts: Int, state: State,
    createdAt: Int64
  ) {
    self.id = id
    self.invitationID = invitationID
    self.passcodeHash = passcodeHash
    self.expiresAt = expiresAt
    self.attempts = attempts
    self.maxAttempts = maxAttempts
    self.state = state
    self.createdAt = createdAt
  }
}
