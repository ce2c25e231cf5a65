import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// The redemption rules as pure functions of their inputs: which way an
/// invitee signs in (the redemption order), whether an invitation can still
/// be redeemed, the passcode's quota, life and attempts. No store, no clock:
/// the callers (RedeemInvitation, CompleteRedemption, the preview behind the
/// redemption pages) read what the rules need inside their transaction, ask
/// the policy, and write what it decided.
public struct RedemptionPolicy: Sendable {
  /// The limits, in one place.
  public struct Limits: Sendable, Equatable {
    /// How long an emailed passcode works.
    public var passcodeLifetime: Duration = .seconds(30 * 60)
    /// Wrong passcodes allowed per passcode.
    public var passcodeAttempts = 5
    /// Passcodes sent per invitation (or per address for a sign-in) per `passcodeWindow`.
    public var passcodesPerTicket = 5
    public var passcodeWindow: Duration = .seconds(3600)
    /// Failed redemptions counted per source address per `failureWindow`.
    public var failuresPerSource = 20
    public var failureWindow: Duration = .seconds(600)

    /// The defaults (docs/SECURITY.md, "Counters").
    public init() {}
  }

  /// The limits applied.
  public var limits: Limits

  /// A policy with `limits`.
  public init(limits: Limits = Limits()) {
    self.limits = limits
  }

  // MARK: Redemption order

  /// The order when a tenant sets none: home tenant, partner provider, email passcode.
  public static let defaultOrder: [RedemptionStep] = [.homeTenant, .partnerProvider, .emailPasscode]

  /// What decides how an invitee signs in, read by the caller.
  public struct SignInFacts: Sendable, Equatable {
    /// The inviting tenant.
    public var invitingTenantID: String
    /// The tenant here that verified the invited address's domain, if any.
    public var domainOwnerTenantID: String?
    /// The inviting tenant's email passcode setting.
    public var emailOtpMode: EmailOtpMode

    /// Creates the facts.
    public init(invitingTenantID: String, domainOwnerTenantID: String?, emailOtpMode: EmailOtpMode) {
      self.invitingTenantID = invitingTenantID
      self.domainOwnerTenantID = domainOwnerTenantID
      self.emailOtpMode = emailOtpMode
    }
  }

  /// The redemption order: a home tenant here that manages the invited
  /// domain first (its credential is required), else the email passcode when
  /// the inviting tenant allows it, else none.
  public func signIn(_ facts: SignInFacts) -> RedemptionSignIn {
    if let owner = facts.domainOwnerTenantID, owner != facts.invitingTenantID { return .homeTenant }
    return facts.emailOtpMode == .disabled ? .unavailable : .emailPasscode
  }

  /// Why the passcode path is closed for `facts`, or nil when it is open.
  public func passcodeRefusal(_ facts: SignInFacts, invitedDomain: String) -> RPCError? {
    guard facts.emailOtpMode != .disabled else {
      return RPCError.failedPrecondition("the tenant does not allow email passcode redemption; sign in with your organization's account",
                                 reason: .emailOTPDisabled)
    }
    if let owner = facts.domainOwnerTenantID, owner != facts.invitingTenantID {
      return RPCError.failedPrecondition("\(invitedDomain) is managed by an organization here; redeem with its credential", reason: .homeTenantRequired)
    }
    return nil
  }

  // MARK: The invitation

  /// The status an invitation reads as at `now`: a pending one past its expiry is EXPIRED.
  public func effectiveStatus(_ status: InvitationStatus, expiresAt: Int64, now: Int64) -> InvitationStatus {
    status == .pendingAcceptance && expiresAt <= now ? .expired : status
  }

  /// Why an invitation cannot be redeemed at `now`, or nil when it can.
  public func redeemableRefusal(_ status: InvitationStatus, expiresAt: Int64, now: Int64) -> RPCError? {
    switch effectiveStatus(status, expiresAt: expiresAt, now: now) {
    case .revoked: RPCError.failedPrecondition("the invitation was revoked", reason: .invitationRevoked)
    case .accepted: RPCError.failedPrecondition("the invitation was already redeemed", reason: .invitationAlreadyRedeemed)
    case .expired: RPCError.failedPrecondition("the invitation expired; ask for a new one", reason: .invitationExpired)
    default: nil
    }
  }

  // MARK: Passcodes

  /// The refusal when the invitation has had its passcodes for the window
  /// (`sent` counts the one being sent), or nil.
  public func passcodeQuotaRefusal(sent: Int, windowStart: Int64, now: Int64, what: String = "invitation") -> RPCError? {
    guard sent > limits.passcodesPerTicket else { return nil }
    return RPCError(
      code: .resourceExhausted, message: "too many passcodes for this \(what); try again later", reason: .redemptionRateLimited,
      retryDelayMillis: UInt64(max(1, windowStart + limits.passcodeWindow.millis - now)))
  }

  /// A new open passcode session.
  public func newSession(id: String, invitationID: String, passcodeHash: [UInt8], now: Int64) -> RedemptionSession {
    RedemptionSession(
      id: id, invitationID: invitationID, passcodeHash: passcodeHash, expiresAt: now + limits.passcodeLifetime.millis, attempts: 0,
      maxAttempts: limits.passcodeAttempts, state: .open, createdAt: now)
  }

  /// What a passcode attempt comes to.
  public enum PasscodeOutcome: Sendable, Equatable {
    /// Right passcode: the session is completed.
    case accepted
    /// Wrong passcode: `remaining` attempts are left (0 closes the session).
    case wrong(remaining: Int)
    /// The session was already completed.
    case alreadyCompleted
    /// The session was replaced or ran out of attempts.
    case spent
    /// The passcode expired (the session is closed).
    case expired

    /// Whether this is a wrong passcode.
    public var isWrong: Bool {
      if case .wrong = self { return true }
      return false
    }

    /// The refusal to answer with, nil for `accepted`.
    public var refusal: RPCError? {
      switch self {
      case .accepted: nil
      case .wrong(let remaining):
        RPCError(
          code: .permissionDenied, message: "wrong passcode; \(remaining) attempts remaining", reason: .passcodeInvalid,
          info: ["attempts_remaining": String(remaining)])
      case .alreadyCompleted: RPCError.failedPrecondition("this session was already completed", reason: .invitationAlreadyRedeemed)
      case .spent: RPCError.failedPrecondition("this passcode can no longer be used; ask for a new one", reason: .passcodeAttemptsExceeded)
      case .expired: RPCError.failedPrecondition("the passcode expired; ask for a new one", reason: .passcodeExpired)
      }
    }
  }

  /// One passcode attempt on `session` at `now`: the outcome, with `session`
  /// changed as it must be stored (`changed` tells whether it must be).
  /// A completed or closed session is checked before the passcode, and the
  /// passcode only while the session lives.
  public func attempt<Session: PasscodeSession>(_ session: inout Session, passcodeMatches: Bool, now: Int64) -> (outcome: PasscodeOutcome, changed: Bool) {
    switch session.state {
    case .completed: return (.alreadyCompleted, false)
    case .closed: return (.spent, false)
    case .open: break
    }
    guard session.expiresAt > now else {
      session.state = .closed
      return (.expired, true)
    }
    guard passcodeMatches else {
      session.attempts += 1
      let remaining = max(0, session.maxAttempts - session.attempts)
      if remaining == 0 { session.state = .closed }
      return (.wrong(remaining: remaining), true)
    }
    session.state = .completed
    return (.accepted, true)
  }
}

extension Duration {
  /// Whole milliseconds.
  var millis: Int64 {
    let parts = components
    return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
  }
}
