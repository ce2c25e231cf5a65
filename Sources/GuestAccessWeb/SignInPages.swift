import GuestAccessCore
import GuestAccessProto

/// The browser side of one passcode sign-in: the address asked for, the
/// passcode step, and once signed in what the guest has. Known by a random id
/// in a short-lived cookie, with its CSRF token. Held in memory only; the
/// credential's secret is never kept nor shown.
struct SignInWebSession: WebSession {
  var csrf: String
  var expires: ContinuousClock.Instant
  /// The page language.
  var language: String
  /// The tenant and address of the last request for a passcode.
  var tenantID = ""
  var email = ""
  /// The passcode step, once a passcode was asked for.
  var passcode: PasscodeStep?
  /// The signed-in guest, once the passcode was right.
  var signedIn: SignedIn?

  struct SignedIn: Sendable {
    var tenantDisplayName: String
    var name: String
    var mail: String
    var groupNames: [String]
    var applicationNames: [String]
    /// When the sign-in's credential expires (unix ms).
    var endsAt: Int64
  }
}

/// The passcode sign-in of an accepted email passcode guest in a browser:
/// the address (`/signin?tenant=`), the passcode (`/signin/passcode`,
/// `/signin/resend`), the landing page (`/signin/done`) and sign-out
/// (`/signin/signout`). Each step calls BeginPasscodeSignIn or
/// CompletePasscodeSignIn through `RedemptionGateway`, so the RPC's rules and
/// limits hold. The browser's session lives as long as the credential the
/// sign-in issued (at most an hour).
struct SignInPages: Sendable {
  let gateway: RedemptionGateway
  let sessions: WebSessions<SignInWebSession>
  /// Whether cookies get `Secure` (the public base URL is https).
  let secureCookies: Bool
  /// Time between passcode emails the resend button waits for.
  let resendCooldown: Duration

  static let cookieName = "ga_signin"
  static let paths: Set<String> = ["/signin", "/signin/passcode", "/signin/resend", "/signin/done", "/signin/signout"]

  func respond(to request: HTTPRequest) async -> HTTPResponse {
    switch (request.method, request.path) {
    case ("GET", "/signin"), ("HEAD", "/signin"): return addressPage(request, error: nil)
    case ("POST", "/signin"): return await begin(request)
    case ("GET", "/signin/passcode"): return passcodePage(request, error: nil)
    case ("POST", "/signin/passcode"): return await verify(request)
    case ("POST", "/signin/resend"): return await resend(request)
    case ("GET", "/signin/done"): return landingPage(request)
    case ("POST", "/signin/signout"): return signOut(request)
    case (_, let path) where Self.paths.contains(path): return .text(405, "method not allowed\n")
    default: return .text(404, "not found\n")
    }
  }

  // MARK: Steps

  /// The address form; opens a session (and its cookie) unless one is live.
  private func addressPage(_ request: HTTPRequest, error: String?, status: Int = 200) -> HTTPResponse {
    var headers: [(name: String, value: String)] = []
    let session: SignInWebSession
    if let (_, live) = currentSession(request), live.signedIn == nil {
      session = live
    } else {
      let strings = Page.strings(for: request)
      session = SignInWebSession(csrf: WebSessions<SignInWebSession>.newToken(), expires: .now + sessions.lifetime, language: strings.email.language)
      headers.append(Page.cookie(Self.cookieName, sessions.open(session), path: "/signin", lifetime: sessions.lifetime, secure: secureCookies))
    }
    let strings = WebStrings.forLanguage(session.language)
    let tenantID = request.method == "POST" ? session.tenantID : request.queryItems["tenant"] ?? ""
    var body = Page.header(strings, title: strings.signInPageTitle) + "<h1>\(Page.escape(strings.signInFormHeading))</h1>\n"
    if let error { body += "<p class=\"error\" role=\"alert\">\(Page.escape(error))</p>\n" }
    body += "<p>\(Page.escape(strings.signInFormIntro))</p>\n"
    var fields = ""
    if tenantID.isEmpty {
      fields += """
        <label for="tenant">\(Page.escape(strings.tenantLabel))</label>
        <input type="text" id="tenant" name="tenant" autocomplete="off" required>

        """
    } else {
      fields += "<input type=\"hidden\" name=\"tenant\" value=\"\(Page.escape(tenantID))\">\n"
    }
    fields += """
      <label for="email">\(Page.escape(strings.emailLabel))</label>
      <input type="email" id="email" name="email" autocomplete="email" value="\(Page.escape(session.email))" required>
      <div class="actions"><button type="submit">\(Page.escape(strings.sendPasscodeButton))</button></div>
      """
    body += Page.form(action: "/signin", csrf: session.csrf, fields)
    return Page(status: status, language: strings.email.language, title: strings.signInPageTitle, body: body, extraHeaders: headers).response
  }

  private func begin(_ request: HTTPRequest) async -> HTTPResponse {
    let form = request.form
    guard let (id, session) = currentSession(request), WebSessions.csrfMatches(session, form["csrf"]) else { return expiredForm(request) }
    let strings = WebStrings.forLanguage(session.language)
    let tenantID = Page.trimmed(form["tenant"] ?? "")
    let email = Page.trimmed(form["email"] ?? "")
    sessions.update(id) { session in
      session.tenantID = tenantID
      session.email = email
    }
    return await askForPasscode(id, tenantID: tenantID, email: email, request: request, strings: strings)
  }

  private func passcodePage(_ request: HTTPRequest, error: String?, status: Int = 200) -> HTTPResponse {
    guard let (_, session) = currentSession(request), let step = session.passcode else { return expiredForm(request) }
    let strings = WebStrings.forLanguage(session.language)
    var body = Page.passcodeStep(
      error: error, sentTo: step.sentTo, attemptsLeft: step.attemptsLeft, expiresAt: step.expiresAt, resendAt: step.sentAt + resendCooldown,
      action: "/signin/passcode", resendAction: "/signin/resend", csrf: session.csrf, strings: strings, title: strings.signInPageTitle,
      expiry: strings.email.signInPasscodeExpiry)
    body += "<p class=\"muted\"><a href=\"/signin?tenant=\(Page.escape(FormEncoding.percentEncode(session.tenantID)))\">\(Page.escape(strings.signInAgain))</a></p>\n"
    return Page(status: status, language: strings.email.language, title: strings.passcodeHeading, body: body).response
  }

  private func verify(_ request: HTTPRequest) async -> HTTPResponse {
    let form = request.form
    guard let (id, session) = currentSession(request), WebSessions.csrfMatches(session, form["csrf"]), let step = session.passcode else {
      return expiredForm(request)
    }
    let strings = WebStrings.forLanguage(session.language)
    do {
      let response = try await gateway.completeSignIn(sessionID: step.sessionID, passcode: form["passcode"] ?? "", peer: request.peer)
      let endsAt = response.credential.expiresAt
      // The session lasts as long as the key (measured on the server's clock, as issued).
      let remaining = Duration.milliseconds(max(0, endsAt - response.credential.createdAt))
      sessions.update(id) { session in
        session.passcode = nil
        session.signedIn = .init(
          tenantDisplayName: response.tenantDisplayName, name: response.guest.displayName, mail: response.guest.mail,
          groupNames: response.groupNames, applicationNames: response.applicationNames, endsAt: endsAt)
        session.expires = .now + remaining
      }
      return .seeOther("/signin/done")
    } catch {
      guard let refusal = sessions.passcodeRefused(error, session: id, step: step, strings: strings) else {
        return errorPage(error, strings: strings)
      }
      return passcodePage(request, error: refusal.message, status: refusal.status)
    }
  }

  private func resend(_ request: HTTPRequest) async -> HTTPResponse {
    guard let (id, session) = currentSession(request), WebSessions.csrfMatches(session, request.form["csrf"]), let step = session.passcode
    else { return expiredForm(request) }
    guard step.sentAt + resendCooldown <= .now else { return .seeOther("/signin/passcode") }
    let strings = WebStrings.forLanguage(session.language)
    return await askForPasscode(id, tenantID: session.tenantID, email: session.email, request: request, strings: strings)
  }

  private func landingPage(_ request: HTTPRequest) -> HTTPResponse {
    guard let (_, session) = currentSession(request), let signedIn = session.signedIn else { return expiredForm(request) }
    let strings = WebStrings.forLanguage(session.language)
    var body = Page.header(strings, title: strings.signInPageTitle) + "<h1 class=\"success\">\(Page.escape(strings.signedInHeading))</h1>\n"
    body += "<p>\(Page.escape(strings.signedInIntro(signedIn.tenantDisplayName)))</p>\n"
    body += "<p>\(Page.escape(strings.signedInAs(signedIn.name.isEmpty ? signedIn.mail : signedIn.name, signedIn.mail)))</p>\n"
    body += Page.grants(signedIn.groupNames, signedIn.applicationNames, strings: strings, heading: strings.signedInGrantsHeading)
    body += "<p class=\"muted\">\(Page.escape(strings.signedInUntil(Page.time(signedIn.endsAt))))</p>\n"
    body += Page.form(action: "/signin/signout", csrf: session.csrf,
                      "<div class=\"actions\"><button type=\"submit\" class=\"secondary\">\(Page.escape(strings.signOutButton))</button></div>")
    return Page(language: strings.email.language, title: strings.signedInHeading, body: body).response
  }

  private func signOut(_ request: HTTPRequest) -> HTTPResponse {
    guard let (id, session) = currentSession(request), WebSessions.csrfMatches(session, request.form["csrf"]) else {
      return expiredForm(request)
    }
    sessions.close(id)
    let strings = WebStrings.forLanguage(session.language)
    var body = Page.header(strings, title: strings.signInPageTitle) + Page.message(strings.signedOutHeading, strings.signedOutBody)
    body += "\n<p><a href=\"/signin?tenant=\(Page.escape(FormEncoding.percentEncode(session.tenantID)))\">\(Page.escape(strings.signInAgain))</a></p>\n"
    let clear: (name: String, value: String) = (
      "Set-Cookie", "\(Self.cookieName)=; Path=/signin; Max-Age=0; HttpOnly; SameSite=Lax\(secureCookies ? "; Secure" : "")")
    return Page(language: strings.email.language, title: strings.signedOutHeading, body: body, extraHeaders: [clear]).response
  }

  // MARK: Parts

  /// Asks the service for a passcode for (tenant, address) and moves the
  /// session to the passcode step; the answer is the same for every address.
  private func askForPasscode(
    _ id: String, tenantID: String, email: String, request: HTTPRequest, strings: WebStrings
  ) async -> HTTPResponse {
    do {
      let response = try await gateway.beginSignIn(tenantID: tenantID, email: email, language: strings.email.language, peer: request.peer)
      sessions.update(id) { session in
        session.passcode = .init(
          sessionID: response.signInSessionID, sentTo: response.passcodeSentTo, expiresAt: response.passcodeExpiresAt,
          attemptsLeft: Int(response.passcodeAttemptsAllowed), sentAt: .now)
      }
      return .seeOther("/signin/passcode")
    } catch let error as RPCError where error.code == .invalidArgument {
      return addressPage(request, error: error.message, status: 400)
    } catch {
      return errorPage(error, strings: strings)
    }
  }

  private func errorPage(_ error: any Error, strings: WebStrings) -> HTTPResponse {
    let rpc = error as? RPCError
    switch (rpc?.code, rpc?.reason) {
    case (.resourceExhausted?, _):
      return Page.notice(status: 429, strings.rateLimitedHeading, strings.rateLimitedBody, strings: strings, title: strings.signInPageTitle)
    case (_, .signInNotAllowed?):
      return Page.notice(status: 403, strings.signInNotAllowedHeading, strings.signInNotAllowedBody, strings: strings, title: strings.signInPageTitle)
    default:
      return Page.notice(status: rpc == nil ? 500 : 400, strings.failedHeading, rpc?.message ?? "internal error", strings: strings, title: strings.signInPageTitle)
    }
  }

  private func expiredForm(_ request: HTTPRequest) -> HTTPResponse {
    let strings = Page.strings(for: request)
    return Page.notice(status: 403, strings.formExpiredHeading, strings.signInFormExpiredBody, strings: strings, title: strings.signInPageTitle)
  }

  private func currentSession(_ request: HTTPRequest) -> (String, SignInWebSession)? {
    guard let id = request.cookie(Self.cookieName), let session = sessions.session(id) else { return nil }
    return (id, session)
  }
}
