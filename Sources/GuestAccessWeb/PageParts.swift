#if canImport(Glibc)
import Glibc
#endif
import GuestAccessCore
import GuestAccessEmail

/// Pieces the redemption and sign-in pages share.
extension Page {
  /// The brand line above every page's heading (`title`: the redemption's by default).
  static func header(_ strings: WebStrings, title: String? = nil) -> String {
    "<p class=\"brand\">GuestAccess · \(escape(title ?? strings.pageTitle))</p>\n"
  }

  /// What a guest gets or has: applications and groups by name, under `heading`
  /// (what the invitation grants, by default).
  static func grants(_ groups: [String], _ applications: [String], strings: WebStrings, heading: String? = nil) -> String {
    var html = "<h2>\(escape(heading ?? strings.grantsHeading))</h2>\n"
    if groups.isEmpty && applications.isEmpty { return html + "<p class=\"muted\">\(escape(strings.nothingGranted))</p>\n" }
    html += "<dl class=\"facts\">\n"
    if !applications.isEmpty {
      html += "<dt>\(escape(strings.applicationsLabel))</dt><dd>\(escape(applications.joined(separator: ", ")))</dd>\n"
    }
    if !groups.isEmpty { html += "<dt>\(escape(strings.groupsLabel))</dt><dd>\(escape(groups.joined(separator: ", ")))</dd>\n" }
    return html + "</dl>\n"
  }

  /// The passcode step: where the passcode went, the form (while attempts
  /// are left) with the attempts and expiry, and a button for a new passcode
  /// once `resendAt` passed.
  /// `title` and `expiry` (the expiry line, from the date) default to the redemption's.
  static func passcodeStep(
    error: String?, sentTo: String, attemptsLeft: Int, expiresAt: Int64, resendAt: ContinuousClock.Instant, action: String,
    resendAction: String, csrf: String, strings: WebStrings, title: String? = nil, expiry: (@Sendable (String) -> String)? = nil
  ) -> String {
    let expiryLine = (expiry ?? strings.email.passcodeExpiry)(date(expiresAt, strings))
    var body = header(strings, title: title) + "<h1>\(escape(strings.passcodeHeading))</h1>\n"
    if let error { body += "<p class=\"error\" role=\"alert\">\(escape(error))</p>\n" }
    body += "<p>\(escape(strings.passcodeSent(sentTo)))</p>\n"
    if attemptsLeft > 0 {
      body += form(action: action, csrf: csrf, """
        <label for="passcode">\(escape(strings.passcodeLabel))</label>
        <input type="text" id="passcode" name="passcode" class="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{8,12}" maxlength="12" required aria-describedby="passcode_hint">
        <p class="hint" id="passcode_hint">\(escape(strings.attemptsLeft(attemptsLeft))) \(escape(expiryLine))</p>
        <div class="actions"><button type="submit">\(escape(strings.verifyButton))</button></div>
        """)
    }
    if resendAt <= .now {
      body += form(action: resendAction, csrf: csrf,
                   "<div class=\"actions\"><button type=\"submit\" class=\"secondary\">\(escape(strings.resendButton))</button></div>")
    } else {
      let millis = wallMillis(after: ContinuousClock.now.duration(to: resendAt))
      body += "<p class=\"muted\">\(escape(strings.resendAfter(time(millis))))</p>\n"
    }
    return body
  }

  /// What the passcode page says after a refused passcode, for the refusals
  /// it handles itself (the others get an error page).
  struct PasscodeRefusal {
    /// The alert above the form.
    var message: String
    /// Attempts left afterwards (0 hides the form).
    var attemptsLeft: Int
    /// The HTTP status.
    var status: Int

    /// The refusal for `error` when the passcode step handles it, else nil.
    init?(_ error: RPCError, attemptsLeft: Int, strings: WebStrings) {
      switch error.reason {
      case .passcodeInvalid:
        let left = Int(error.info("attempts_remaining") ?? "") ?? 0
        (message, self.attemptsLeft, status) = (left > 0 ? strings.wrongPasscode(left) : strings.passcodeSpent, left, 403)
      case .passcodeAttemptsExceeded: (message, self.attemptsLeft, status) = (strings.passcodeSpent, 0, 403)
      case .passcodeExpired: (message, self.attemptsLeft, status) = (strings.passcodeExpired, 0, 403)
      case .passcodeAlreadyUsed: (message, self.attemptsLeft, status) = (strings.passcodeUsed, 0, 403)
      case .invalidField: (message, self.attemptsLeft, status) = (strings.wrongPasscode(attemptsLeft), attemptsLeft, 400)
      default: return nil
      }
    }
  }

  /// A page of a heading and one paragraph with the usual header (`title`: the redemption's by default).
  static func notice(status: Int, _ heading: String, _ text: String, strings: WebStrings, title: String? = nil) -> HTTPResponse {
    Page(status: status, language: strings.email.language, title: heading, body: header(strings, title: title) + message(heading, text)).response
  }

  /// A session cookie: `HttpOnly`, `SameSite=Lax`, limited to `path`, `Secure` when asked.
  static func cookie(_ name: String, _ id: String, path: String, lifetime: Duration, secure: Bool) -> (name: String, value: String) {
    let seconds = Int(lifetime.components.seconds)
    return ("Set-Cookie", "\(name)=\(id); Path=\(path); Max-Age=\(seconds); HttpOnly; SameSite=Lax\(secure ? "; Secure" : "")")
  }

  /// A date (unix ms) as the emails write it.
  static func date(_ millis: Int64, _ strings: WebStrings) -> String {
    strings.email.date(CivilTime(unixMillis: millis))
  }

  /// A time of day (unix ms), `HH:MM UTC`.
  static func time(_ millis: Int64) -> String {
    "\(CivilTime(unixMillis: millis).hourMinute) UTC"
  }

  /// Wall-clock unix ms `delay` from now.
  static func wallMillis(after delay: Duration) -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000 + Int64(delay.components.seconds) * 1000
  }

  /// `text` without leading and trailing spaces and tabs.
  static func trimmed(_ text: String) -> String {
    String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
  }

  /// The page language: `preferred` (an invitation's) if given, else the
  /// first supported one in Accept-Language, else English.
  static func strings(for request: HTTPRequest, preferred: String = "") -> WebStrings {
    if !preferred.isEmpty { return WebStrings.forLanguage(preferred) }
    let accepted = (request.header("accept-language") ?? "").split(separator: ",").map {
      trimmed(String($0.split(separator: ";").first ?? ""))
    }
    return accepted.first(where: WebStrings.supports).map(WebStrings.forLanguage) ?? .english
  }
}
