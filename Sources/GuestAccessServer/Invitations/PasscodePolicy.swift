import GuestAccessCore
import GuestAccessStorage

/// A stored passcode challenge: a redemption session or a sign-in session.
protocol PasscodeSession {
  /// The id the passcode hash is bound to.
  var id: String { get }
  /// The keyed hash of the passcode.
  var passcodeHash: [UInt8] { get }
  /// When the passcode stops working (ms).
  var expiresAt: Int64 { get }
  /// Wrong attempts so far.
  var attempts: Int { get set }
  /// Wrong attempts allowed.
  var maxAttempts: Int { get }
  /// Open, completed or closed.
  var state: RedemptionSession.State { get set }
}

extension RedemptionSession: PasscodeSession {}
extension SignInSession: PasscodeSession {}

/// The one set of email passcode rules, for the redemption
/// (RedeemInvitation, CompleteRedemption) and the later sign-in of a passcode
/// guest (BeginPasscodeSignIn, CompletePasscodeSignIn): 8 random digits,
/// stored as a keyed hash bound to the session id, 30 minutes of life,
/// 5 wrong attempts, 5 passcodes per ticket or address per hour.
enum PasscodePolicy {
  /// Passcode life.
  static let lifetimeMillis: Int64 = 30 * 60 * 1000
  /// Wrong attempts allowed per passcode.
  static let attempts = 5
  /// Passcodes sent per ticket (redemption) or address (sign-in) per hour.
  static let sendsPerWindow = 5
  /// The window of `sendsPerWindow`.
  static let sendWindowMillis: Int64 = 3_600_000

  /// A new passcode with its session id and keyed hash.
  struct Issued {
    /// The passcode in clear: it goes into the email only.
    var passcode: String
    /// The new session's id.
    var sessionID: String
    /// The keyed hash to store.
    var hash: [UInt8]
    /// When it stops working (ms).
    var expiresAt: Int64
  }

  /// A new passcode for a session whose id starts with `prefix`.
  static func issue(prefix: String, hasher: SecretHasher, now: Int64) -> Issued {
    var generator = SystemRandomNumberGenerator()
    let passcode = zeroPadded8(UInt32.random(in: 0..<100_000_000, using: &generator))
    let sessionID = Secrets.newID(prefix: prefix)
    return Issued(passcode: passcode, sessionID: sessionID, hash: hasher.passcode(passcode, sessionID: sessionID), expiresAt: now + lifetimeMillis)
  }

  /// Counts one passcode sent for `subject` (a rate window key); RESOURCE_EXHAUSTED
  /// (REDEMPTION_RATE_LIMITED, with a retry delay) beyond `sendsPerWindow` in the window.
  static func chargeSend(_ writer: any DirectoryWriter, subject: String, now: Int64, what: String) throws {
    let sent = try writer.countInWindow(key: subject, now: now, windowMillis: sendWindowMillis, add: 1)
    guard sent.count <= sendsPerWindow else {
      throw RPCError(
        code: .resourceExhausted,
        message: "too many passcodes for this \(what); try again later",
        reason: .redemptionRateLimited,
        retryDelayMillis: UInt64(max(1, sent.windowStart + sendWindowMillis - now)))
    }
  }

  /// The verdict on an entered passcode.
  enum Verdict {
    /// The passcode is right; the session is still open (the caller completes it).
    case matched
    /// The session no longer takes passcodes (used, spent or expired).
    case refused(RPCError)
    /// A wrong passcode, counted (PASSCODE_INVALID with "attempts_remaining").
    case wrong(remaining: Int, RPCError)
  }

  /// Checks `passcode` against `session`: open, not expired, then the hash in
  /// constant time. Updates `session` (an expired or spent one is closed, a
  /// wrong attempt counted); the caller stores it in the same transaction.
  /// `completed` is the refusal for a session that was already used.
  static func check<Session: PasscodeSession>(
    _ passcode: String, against session: inout Session, completed: RPCError, hasher: SecretHasher, now: Int64
  ) -> Verdict {
    guard session.state == .open else {
      return .refused(session.state == .completed
        ? completed
        : RPCError.failedPrecondition("this passcode can no longer be used; ask for a new one", reason: .passcodeAttemptsExceeded))
    }
    guard session.expiresAt > now else {
      session.state = .closed
      return .refused(RPCError.failedPrecondition("the passcode expired; ask for a new one", reason: .passcodeExpired))
    }
    guard Secrets.constantTimeEqual(hasher.passcode(passcode, sessionID: session.id), session.passcodeHash) else {
      session.attempts += 1
      let remaining = max(0, session.maxAttempts - session.attempts)
      if remaining == 0 { session.state = .closed }
      return .wrong(remaining: remaining, RPCError(
        code: .permissionDenied,
        message: "wrong passcode; \(remaining) attempts remaining",
        reason: .passcodeInvalid,
        info: ["attempts_remaining": String(remaining)]))
    }
    return .matched
  }

  /// An address with all but its first character and the domain hidden: `a***@fabrikam.example`.
  static func mask(_ email: String) -> String {
    let parts = email.split(separator: "@")
    guard parts.count == 2, let first = parts[0].first else { return "***" }
    return "\(first)***@\(parts[1])"
  }
}

/// An 8-digit, zero-padded decimal.
func zeroPadded8(_ value: UInt32) -> String {
  let digits = "\(value)"
  return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
