import GuestAccessBase64
import GuestAccessCore
import GuestAccessLocks
import GuestAccessServer

/// What every browser session holds: the CSRF token its forms carry and when it ends.
protocol WebSession: Sendable {
  /// The token every form of the session carries.
  var csrf: String { get }
  /// When it stops working (monotonic).
  var expires: ContinuousClock.Instant { get }
  /// The passcode step, once a passcode was sent.
  var passcode: PasscodeStep? { get set }
}

/// The browser side of one redemption: bound to one ticket, known by a random
/// id in a short-lived cookie, with its CSRF token. Held in memory only.
struct RedemptionWebSession: WebSession {
  /// The ticket it was opened with (never logged, never sent back).
  var ticket: String
  /// The token every form of the session carries.
  var csrf: String
  /// When it stops working (monotonic).
  var expires: ContinuousClock.Instant
  /// The page language.
  var language: String
  /// The passcode step, once a passcode was sent.
  var passcode: PasscodeStep?
  /// The outcome, once accepted.
  var done: Done?
  /// The `state` of a sign-in at an identity provider in progress: the
  /// callback must bring back this one (so a callback cannot be played into
  /// another browser's session).
  var federatedState: String?

  struct Done: Sendable {
    var tenantDisplayName: String
    var groupNames: [String]
    var applicationNames: [String]
    var redirectURL: String
    /// For a passcode guest: where it signs in next time (`/signin?tenant=…`), else "".
    var signInPath: String
  }
}

/// The passcode step of a redemption or sign-in in a browser.
struct PasscodeStep: Sendable {
  /// The service's redemption or sign-in session.
  var sessionID: String
  /// The masked address the passcode went to.
  var sentTo: String
  /// When the passcode expires (unix ms).
  var expiresAt: Int64
  /// Wrong passcodes left.
  var attemptsLeft: Int
  /// When it was sent (for the resend cool-down).
  var sentAt: ContinuousClock.Instant
}

/// Every open browser session of one kind, by id (a random 256-bit value in a
/// cookie). Held in memory; bounded: when full, expired ones and then the
/// oldest tenth go.
final class WebSessions<Session: WebSession>: Sendable {
  private let sessions = LockedValue<[String: Session]>([:])
  /// How long a session lives.
  let lifetime: Duration
  private let capacity: Int

  init(lifetime: Duration, capacity: Int = 10_000) {
    self.lifetime = lifetime
    self.capacity = capacity
  }

  /// A new random token (session ids and CSRF tokens).
  static func newToken() -> String { Base64.url.encode(Secrets.randomBytes(32)) }

  /// Opens `session`; returns its id.
  func open(_ session: Session) -> String {
    let id = Self.newToken()
    sessions.withLock { sessions in
      let now = ContinuousClock.now
      if sessions.count >= capacity {
        // Amortized: expired ones go, then the oldest tenth, so a full store
        // is swept once per `capacity / 10` new sessions, not on each.
        sessions = sessions.filter { $0.value.expires > now }
        if sessions.count >= capacity * 9 / 10 {
          let oldest = sessions.sorted { $0.value.expires < $1.value.expires }.prefix(capacity / 10 + 1)
          for (key, _) in oldest { sessions[key] = nil }
        }
      }
      sessions[id] = session
    }
    return id
  }

  /// The live session with `id`.
  func session(_ id: String?) -> Session? {
    guard let id, !id.isEmpty else { return nil }
    return sessions.withLock { sessions in
      guard let session = sessions[id] else { return nil }
      if session.expires <= .now {
        sessions[id] = nil
        return nil
      }
      return session
    }
  }

  /// Changes the live session with `id`.
  func update(_ id: String, _ body: (inout Session) -> Void) {
    sessions.withLock { sessions in
      guard var session = sessions[id] else { return }
      body(&session)
      sessions[id] = session
    }
  }

  /// Ends the session with `id`.
  func close(_ id: String) {
    sessions.withLock { $0[id] = nil }
  }

  /// Whether `token` is the session's CSRF token (constant time).
  static func csrfMatches(_ session: Session, _ token: String?) -> Bool {
    guard let token else { return false }
    return Secrets.constantTimeEqual(Array(session.csrf.utf8), Array(token.utf8))
  }
}

/// The redemption pages' sessions.
typealias RedemptionSessions = WebSessions<RedemptionWebSession>

extension WebSessions {
  /// The passcode step's answer to a refused passcode, the one step of both
  /// the redemption's and the sign-in's `verify`: for a refusal the passcode
  /// page handles itself (wrong, spent, expired, used, malformed) it records
  /// the attempts left in session `id` and returns what the page says; for
  /// any other error nil (the caller shows its error page).
  func passcodeRefused(_ error: any Error, session id: String, step: PasscodeStep, strings: WebStrings) -> Page.PasscodeRefusal? {
    guard let rpc = error as? RPCError, let refusal = Page.PasscodeRefusal(rpc, attemptsLeft: step.attemptsLeft, strings: strings) else {
      return nil
    }
    update(id) { $0.passcode?.attemptsLeft = refusal.attemptsLeft }
    return refusal
  }
}
