import GuestAccessLocks
import GuestAccessServer

/// The browser side of one redemption: bound to one ticket, known by a random
/// id in a short-lived cookie, with its CSRF token. Held in memory only.
struct RedemptionWebSession: Sendable {
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

  struct PasscodeStep: Sendable {
    var sessionID: String
    var sentTo: String
    var expiresAt: Int64
    var attemptsLeft: Int
    var sentAt: ContinuousClock.Instant
  }

  struct Done: Sendable {
    var tenantDisplayName: String
    var groupNames: [String]
    var applicationNames: [String]
    var redirectURL: String
  }
}

/// Every open redemption session, by id. Bounded: when full the oldest tenth goes.
final class RedemptionSessions: Sendable {
  private let sessions = LockedValue<[String: RedemptionWebSession]>([:])
  /// How long a session lives.
  let lifetime: Duration
  private let capacity: Int

  init(lifetime: Duration, capacity: Int = 10_000) {
    self.lifetime = lifetime
    self.capacity = capacity
  }

  /// Opens a session for `ticket`; returns its id.
  func open(ticket: String, language: String) -> (id: String, session: RedemptionWebSession) {
    let id = Secrets.base64URL(Secrets.randomBytes(32))
    let session = RedemptionWebSession(
      ticket: ticket, csrf: Secrets.base64URL(Secrets.randomBytes(32)), expires: .now + lifetime, language: language)
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
    return (id, session)
  }

  /// The live session with `id`.
  func session(_ id: String?) -> RedemptionWebSession? {
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
  func update(_ id: String, _ body: (inout RedemptionWebSession) -> Void) {
    sessions.withLock { sessions in
      guard var session = sessions[id] else { return }
      body(&session)
      sessions[id] = session
    }
  }

  /// Whether `token` is the session's CSRF token (constant time).
  static func csrfMatches(_ session: RedemptionWebSession, _ token: String?) -> Bool {
    guard let token else { return false }
    return Secrets.constantTimeEqual(Array(session.csrf.utf8), Array(token.utf8))
  }
}
