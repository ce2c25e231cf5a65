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
    /// The inviting tenant's redemption order (its effective setting).
    public var order: [RedemptionStep]
    /// The inviting tenant's PARTNER provider for the invited domain, if any.
    public var partnerProvider: IdentityProvider?
    /// The MEMBERS provider of the domain's owner, if it has one.
    public var homeProvider: IdentityProvider?

    /// Creates the facts.
    public init(
      invitingTenantID: String, domainOwnerTenantID: String?, emailOtpMode: EmailOtpMode, order: [RedemptionStep] = RedemptionPolicy.defaultOrder,
      partnerProvider: IdentityProvider? = nil, homeProvider: IdentityProvider? = nil
    ) {
      self.invitingTenantID = invitingTenantID
      self.domainOwnerTenantID = domainOwnerTenantID
      self.emailOtpMode = emailOtpMode
      self.order = order
      self.partnerProvider = partnerProvider
      self.homeProvider = homeProvider
    }

    /// Whether another tenant here manages the invited domain.
    var hasHomeTenant: Bool { domainOwnerTenantID.map { $0 != invitingTenantID } ?? false }
  }

  /// The redemption order: the first of the tenant's steps that applies —
  /// HOME_TENANT when another tenant here verified the invited domain,
  /// PARTNER_PROVIDER when the inviting tenant has a PARTNER provider for it,
  /// EMAIL_PASSCODE when the tenant allows passcodes — else none.
  public func signIn(_ facts: SignInFacts) -> RedemptionSignIn {
    for step in facts.order {
      switch step {
      case .homeTenant where facts.hasHomeTenant: return .homeTenant
      case .partnerProvider where facts.partnerProvider != nil: return .partnerProvider
      case .emailPasscode where facts.emailOtpMode != .disabled: return .emailPasscode
      default: continue
      }
    }
    return .unavailable
  }

  /// The identity provider the invitee signs in with in a browser, if the
  /// order selects one: the PARTNER provider, or the home tenant's MEMBERS provider.
  public func provider(_ facts: SignInFacts) -> IdentityProvider? {
    switch signIn(facts) {
    case .partnerProvider: facts.partnerProvider
    case .homeTenant: facts.homeProvider
    default: nil
    }
  }

  /// Why the passcode path is closed for `facts`, or nil when it is open.
  public func passcodeRefusal(_ facts: SignInFacts, invitedDomain: String) -> RPCError? {
    let selected = signIn(facts)
    switch selected {
    case .emailPasscode:
      return nil
    case .partnerProvider:
      return providerRequired(facts.partnerProvider?.displayName ?? "")
    default:
      break
    }
    guard facts.emailOtpMode != .disabled else {
      return RPCError.failedPrecondition("the tenant does not allow email passcode redemption; sign in with your organization's account",
                                 reason: .emailOTPDisabled)
    }
    if selected == .homeTenant {
      return RPCError.failedPrecondition("\(invitedDomain) is managed by an organization here; redeem with its credential", reason: .homeTenantRequired)
    }
    return RPCError.failedPrecondition("the tenant's redemption order does not offer email passcodes", reason: .emailOTPDisabled)
  }

  /// Why a home-tenant credential cannot redeem under `facts`, or nil when
  /// the order lets it (the credential's own checks come after).
  public func homeCredentialRefusal(_ facts: SignInFacts) -> RPCError? {
    if signIn(facts) == .partnerProvider { return providerRequired(facts.partnerProvider?.displayName ?? "") }
    guard facts.order.contains(.homeTenant) else {
      return RPCError.failedPrecondition("the tenant's redemption order does not offer the home tenant", reason: .redemptionStepNotOffered)
    }
    return nil
  }

  private func providerRequired(_ name: String) -> RPCError {
    RPCError.failedPrecondition(
      "the inviting organization's redemption order asks you to sign in with \(name) in a browser (the redeem link)",
      reason: .providerSignInRequired)
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
