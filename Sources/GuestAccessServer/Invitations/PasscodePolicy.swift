import GuestAccessCore
import GuestAccessStorage

/// A stored passcode challenge: a redemption session or a sign-in session.
public protocol PasscodeSession {
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

/// The email passcode mechanics shared by the redemption
/// (RedeemInvitation, CompleteRedemption) and the later sign-in of a passcode
/// guest (BeginPasscodeSignIn, CompletePasscodeSignIn): 8 random digits,
/// stored as a keyed hash bound to the session id. The limits and the
/// decision on an entered passcode are `RedemptionPolicy`'s (30 minutes of
/// life, 5 wrong attempts, 5 passcodes per ticket or address per hour).
enum PasscodePolicy {
  /// The rules applied.
  static var rules: RedemptionPolicy { InvitationServiceImpl.redemption }
  /// Wrong attempts allowed per passcode.
  static var attempts: Int { rules.limits.passcodeAttempts }

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
    return Issued(passcode: passcode, sessionID: sessionID, hash: hasher.passcode(passcode, sessionID: sessionID), expiresAt: now + rules.limits.passcodeLifetime.millis)
  }

  /// Counts one passcode sent for `subject` (a rate window key); RESOURCE_EXHAUSTED
  /// (REDEMPTION_RATE_LIMITED, with a retry delay) beyond the policy's passcodes per window.
  static func chargeSend(_ writer: any DirectoryWriter, subject: String, now: Int64, what: String) throws {
    let sent = try writer.countInWindow(key: subject, now: now, windowMillis: rules.limits.passcodeWindow.millis, add: 1)
    if let refusal = rules.passcodeQuotaRefusal(sent: sent.count, windowStart: sent.windowStart, now: now, what: what) { throw refusal }
  }

  /// Whether `passcode` is the one `session` was issued with: its keyed hash,
  /// compared in constant time. What follows (attempts, expiry, completion) is
  /// `RedemptionPolicy.attempt`'s.
  static func matches(_ passcode: String, _ session: some PasscodeSession, hasher: SecretHasher) -> Bool {
    Secrets.constantTimeEqual(hasher.passcode(passcode, sessionID: session.id), session.passcodeHash)
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
