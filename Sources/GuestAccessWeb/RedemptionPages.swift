import GuestAccessCore
import GuestAccessEmail
import GuestAccessProto
import GuestAccessServer

/// The guest's redemption pages: the invitation (`GET /redeem?ticket=`), the
/// permissions to accept or decline (`/redeem/consent`), the passcode
/// (`/redeem/passcode`, `/redeem/resend`), the return from an identity
/// provider (`/redeem/callback`) and the result (`/redeem/done`).
/// Every step calls the invitation service through `RedemptionGateway`.
struct RedemptionPages: Sendable {
  let gateway: RedemptionGateway
  let sessions: RedemptionSessions
  /// Whether cookies get `Secure` (the public base URL is https).
  let secureCookies: Bool
  /// The public base URL: a redirect URL equal to it shows the done page instead.
  let publicBaseURL: String
  /// Time between passcode emails the resend button waits for.
  let resendCooldown: Duration

  static let cookieName = "ga_redeem"

  func respond(to request: HTTPRequest) async -> HTTPResponse {
    switch (request.method, request.path) {
    case ("GET", "/redeem"), ("HEAD", "/redeem"): return await invitation(request)
    case ("GET", "/redeem/consent"): return await consent(request, error: nil)
    case ("POST", "/redeem/consent"): return await decide(request)
    case ("GET", "/redeem/passcode"): return passcodePage(request, error: nil)
    case ("POST", "/redeem/passcode"): return await verify(request)
    case ("POST", "/redeem/resend"): return await resend(request)
    case ("GET", "/redeem/done"): return donePage(request)
    case ("GET", InvitationServiceImpl.callbackPath): return await callback(request)
    case (_, "/redeem"), (_, "/redeem/consent"), (_, "/redeem/passcode"), (_, "/redeem/resend"), (_, "/redeem/done"),
      (_, InvitationServiceImpl.callbackPath):
      return .text(405, "method not allowed\n")
    default:
      return .text(404, "not found\n")
    }
  }

  // MARK: Steps

  private func invitation(_ request: HTTPRequest) async -> HTTPResponse {
    let ticket = request.queryItems["ticket"] ?? ""
    var strings = Page.strings(for: request)
    let preview: InvitationPreview
    do {
      preview = try await gateway.preview(ticket: ticket, peer: request.peer)
    } catch {
      return errorPage(error, strings: strings)
    }
    strings = Page.strings(for: request, preferred: preview.language)
    if let closed = closedPage(preview, strings: strings) { return closed }
    let id = sessions.open(RedemptionWebSession(
      ticket: ticket, csrf: RedemptionSessions.newToken(), expires: .now + sessions.lifetime, language: strings.email.language))
    var body = Page.header(strings)
    body += "<h1>\(Page.escape(strings.invitationHeading(preview.tenantDisplayName)))</h1>\n"
    let inviter = preview.inviterName.isEmpty ? preview.tenantDisplayName : preview.inviterName
    body += "<p>\(Page.escape(strings.email.invitationIntro(inviter, preview.inviterMail, preview.tenantDisplayName)))</p>\n"
    body += "<dl class=\"facts\"><dt>\(Page.escape(strings.invitedAddress))</dt><dd>\(Page.escape(preview.maskedEmail))</dd></dl>\n"
    if !preview.customMessage.isEmpty {
      body += "<h2>\(Page.escape(strings.email.customMessageHeading(inviter)))</h2>\n"
      body += "<blockquote>\(HTMLEscaping.paragraph(preview.customMessage))</blockquote>\n"
    }
    body += Page.grants(preview.groupNames, preview.applicationNames, strings: strings)
    body += "<h2>\(Page.escape(strings.signInHeading))</h2>\n<p>\(Page.escape(signInText(preview, strings)))</p>\n"
    body += "<p class=\"muted\">\(Page.escape(strings.email.invitationExpiry(Page.date(preview.expiresAt, strings))))</p>\n"
    if preview.signIn != .unavailable {
      let label = preview.providerName.isEmpty ? strings.continueButton : strings.continueWith(preview.providerName)
      body += "<div class=\"actions\"><a class=\"button\" href=\"/redeem/consent\">\(Page.escape(label))</a></div>\n"
    }
    return Page(language: strings.email.language, title: strings.pageTitle, body: body, extraHeaders: [Page.cookie(Self.cookieName, id, path: "/redeem", lifetime: sessions.lifetime, secure: secureCookies)]).response
  }

  private func consent(_ request: HTTPRequest, error: String?, status: Int = 200) async -> HTTPResponse {
    guard let (_, session) = currentSession(request) else { return expiredForm(request) }
    let strings = WebStrings.forLanguage(session.language)
    return await withCurrentInvitation(session.ticket, request: request, strings: strings) { preview in
      var body = Page.header(strings) + "<h1>\(Page.escape(strings.consentHeading))</h1>\n"
      if let error { body += "<p class=\"error\" role=\"alert\">\(Page.escape(error))</p>\n" }
      let acceptLabel = preview.providerName.isEmpty ? strings.acceptButton : strings.continueWith(preview.providerName)
      body += "<p>\(Page.escape(strings.consentIntro(preview.tenantDisplayName)))</p>\n<ul>\n"
      body += strings.consentSees.map { "<li>\(Page.escape($0))</li>" }.joined(separator: "\n") + "\n</ul>\n"
      body += Page.grants(preview.groupNames, preview.applicationNames, strings: strings)
      body += "<p class=\"muted\">\(Page.escape(strings.consentStays))</p>\n"
      var fields = ""
      if !preview.providerName.isEmpty {
        body += "<p>\(Page.escape(signInText(preview, strings)))</p>\n"
      } else if preview.signIn == .homeTenant {
        fields += """
          <label for="api_key">\(Page.escape(strings.homeKeyLabel))</label>
          <input type="password" id="api_key" name="api_key" autocomplete="off" required aria-describedby="api_key_hint">
          <p class="hint" id="api_key_hint">\(Page.escape(strings.homeKeyHint))</p>

          """
      } else {
        body += "<p>\(Page.escape(signInText(preview, strings)))</p>\n"
      }
      fields += """
        <div class="actions">
        <button type="submit" name="decision" value="accept">\(Page.escape(acceptLabel))</button>
        <button type="submit" name="decision" value="decline" class="secondary" formnovalidate>\(Page.escape(strings.declineButton))</button>
        </div>
        """
      body += Page.form(action: "/redeem/consent", csrf: session.csrf, fields)
      return Page(status: status, language: strings.email.language, title: strings.consentHeading, body: body).response
    }
  }

  private func decide(_ request: HTTPRequest) async -> HTTPResponse {
    let form = request.form
    guard let (id, session) = currentSession(request), RedemptionSessions.csrfMatches(session, form["csrf"]) else {
      return expiredForm(request)
    }
    let strings = WebStrings.forLanguage(session.language)
    if form["decision"] == "decline" {
      do {
        try await gateway.decline(ticket: session.ticket, peer: request.peer)
      } catch {
        return errorPage(error, strings: strings)
      }
      return Page(language: strings.email.language, title: strings.declinedHeading,
                  body: Page.header(strings) + Page.message(strings.declinedHeading, strings.declinedBody)).response
    }
    guard form["decision"] == "accept" else { return .text(400, "decision must be accept or decline\n") }
    return await withCurrentInvitation(session.ticket, request: request, strings: strings) { preview in
      if !preview.providerName.isEmpty {
        return await beginFederated(id, request: request, strings: strings)
      }
      let key = Page.trimmed(form["api_key"] ?? "")
      if preview.signIn == .homeTenant && key.isEmpty {
        return await consent(request, error: strings.homeKeyLabel, status: 400)
      }
      do {
        let response = try await gateway.redeem(ticket: session.ticket, peer: request.peer, bearer: key.isEmpty ? nil : key)
        if response.result == .accepted {
          return finish(id, preview: preview, redirectURL: response.redirectURL, tenantID: nil)
        }
        sessions.update(id) { session in
          session.passcode = .init(
            sessionID: response.redemptionSessionID, sentTo: response.passcodeSentTo, expiresAt: response.passcodeExpiresAt,
            attemptsLeft: Int(response.passcodeAttemptsAllowed), sentAt: .now)
        }
        return .seeOther("/redeem/passcode")
      } catch let error as RPCError where Self.showsOnConsent(error) {
        return await consent(request, error: error.message, status: 403)
      } catch {
        return errorPage(error, strings: strings)
      }
    }
  }

  /// Accept on a provider path: a new sign-in at the provider, its state
  /// bound to this browser's session, and the browser sent there.
  private func beginFederated(_ id: String, request: HTTPRequest, strings: WebStrings) async -> HTTPResponse {
    guard let session = sessions.session(id) else { return expiredForm(request) }
    do {
      let started = try await gateway.beginFederated(ticket: session.ticket, peer: request.peer)
      sessions.update(id) { $0.federatedState = started.state }
      return .seeOther(started.authorizationURL)
    } catch let error as RPCError where Self.showsOnConsent(error) {
      return await consent(request, error: error.message, status: 403)
    } catch {
      return errorPage(error, strings: strings)
    }
  }

  /// `GET /redeem/callback?code=…&state=…` (or `?error=…&state=…`): the
  /// provider sends the browser back. The state must be the one this
  /// browser's session started; the service exchanges the code and redeems.
  /// A refusal shows the permissions page again with the reason (the
  /// invitation stays usable).
  private func callback(_ request: HTTPRequest) async -> HTTPResponse {
    let query = request.queryItems
    // An error redirect without `state` (some providers drop it) ends this session's own sign-in:
    // it can refuse it, never complete it.
    let returned = query["state"] ?? ""
    guard let (id, session) = currentSession(request), let expected = session.federatedState,
      returned.isEmpty ? !(query["error"] ?? "").isEmpty && (query["code"] ?? "").isEmpty
        : Secrets.constantTimeEqual(Array(expected.utf8), Array(returned.utf8))
    else { return expiredForm(request) }
    sessions.update(id) { $0.federatedState = nil }
    let strings = WebStrings.forLanguage(session.language)
    return await withCurrentInvitation(session.ticket, request: request, strings: strings) { preview in
      do {
        let response = try await gateway.completeFederated(
          CompleteFederatedRedemptionRequest(
            state: expected, code: query["code"] ?? "", error: query["error"] ?? "", errorDescription: query["error_description"] ?? ""),
          peer: request.peer)
        return finish(id, preview: preview, redirectURL: response.redirectURL, tenantID: nil)
      } catch let error as RPCError where Self.showsOnConsent(error) || error.code == .notFound || error.code == .unavailable {
        return await consent(request, error: strings.providerRefusedHeading + ": " + error.message, status: 403)
      } catch {
        return errorPage(error, strings: strings)
      }
    }
  }

  /// Refusals that leave the invitation usable: shown on the permissions page.
  private static func showsOnConsent(_ error: RPCError) -> Bool {
    error.code == .permissionDenied || error.code == .unauthenticated || error.code == .alreadyExists
      || error.code == .failedPrecondition && error.reason != .invitationRevoked && error.reason != .invitationExpired
      && error.reason != .invitationAlreadyRedeemed
  }

  private func passcodePage(_ request: HTTPRequest, error: String?, status: Int = 200) -> HTTPResponse {
    guard let (_, session) = currentSession(request), let step = session.passcode else { return expiredForm(request) }
    let strings = WebStrings.forLanguage(session.language)
    let body = Page.passcodeStep(
      error: error, sentTo: step.sentTo, attemptsLeft: step.attemptsLeft, expiresAt: step.expiresAt, resendAt: step.sentAt + resendCooldown,
      action: "/redeem/passcode", resendAction: "/redeem/resend", csrf: session.csrf, strings: strings)
    return Page(status: status, language: strings.email.language, title: strings.passcodeHeading, body: body).response
  }

  private func verify(_ request: HTTPRequest) async -> HTTPResponse {
    let form = request.form
    guard let (id, session) = currentSession(request), RedemptionSessions.csrfMatches(session, form["csrf"]),
      let step = session.passcode
    else { return expiredForm(request) }
    let strings = WebStrings.forLanguage(session.language)
    return await withCurrentInvitation(session.ticket, request: request, strings: strings) { preview in
      do {
        let response = try await gateway.complete(sessionID: step.sessionID, passcode: form["passcode"] ?? "", peer: request.peer)
        return finish(id, preview: preview, redirectURL: response.redirectURL, tenantID: response.tenantID)
      } catch {
        guard let refusal = sessions.passcodeRefused(error, session: id, step: step, strings: strings) else {
          return errorPage(error, strings: strings)
        }
        return passcodePage(request, error: refusal.message, status: refusal.status)
      }
    }
  }

  private func resend(_ request: HTTPRequest) async -> HTTPResponse {
    guard let (id, session) = currentSession(request), RedemptionSessions.csrfMatches(session, request.form["csrf"]),
      let step = session.passcode
    else { return expiredForm(request) }
    let strings = WebStrings.forLanguage(session.language)
    guard step.sentAt + resendCooldown <= .now else { return .seeOther("/redeem/passcode") }
    do {
      let response = try await gateway.redeem(ticket: session.ticket, peer: request.peer, bearer: nil)
      sessions.update(id) { session in
        session.passcode = .init(
          sessionID: response.redemptionSessionID, sentTo: response.passcodeSentTo, expiresAt: response.passcodeExpiresAt,
          attemptsLeft: Int(response.passcodeAttemptsAllowed), sentAt: .now)
      }
      return .seeOther("/redeem/passcode")
    } catch {
      return errorPage(error, strings: strings)
    }
  }

  private func donePage(_ request: HTTPRequest) -> HTTPResponse {
    guard let (_, session) = currentSession(request), let done = session.done else { return expiredForm(request) }
    let strings = WebStrings.forLanguage(session.language)
    var body = Page.header(strings) + "<h1 class=\"success\">\(Page.escape(strings.doneHeading))</h1>\n"
    body += "<p>\(Page.escape(strings.doneIntro(done.tenantDisplayName)))</p>\n"
    body += Page.grants(done.groupNames, done.applicationNames, strings: strings)
    if !done.signInPath.isEmpty {
      body += "<p class=\"muted\">\(Page.escape(strings.nextSignIn)) <a href=\"\(Page.escape(done.signInPath))\">\(Page.escape(strings.signInFormHeading))</a></p>\n"
    }
    if let target = allowedRedirect(done.redirectURL) {
      body += "<div class=\"actions\"><a class=\"button\" href=\"\(Page.escape(target))\">\(Page.escape(strings.doneContinue))</a></div>\n"
    }
    return Page(language: strings.email.language, title: strings.doneHeading, body: body).response
  }

  // MARK: Parts

  /// Runs `body` with the invitation behind a session's ticket while it can
  /// still be redeemed; else answers the page that says why not (closed,
  /// expired, revoked, unknown) without running it.
  private func withCurrentInvitation(
    _ ticket: String, request: HTTPRequest, strings: WebStrings, _ body: (InvitationPreview) async -> HTTPResponse
  ) async -> HTTPResponse {
    let preview: InvitationPreview
    do {
      preview = try await gateway.preview(ticket: ticket, peer: request.peer)
    } catch {
      return errorPage(error, strings: strings)
    }
    if let closed = closedPage(preview, strings: strings) { return closed }
    return await body(preview)
  }

  /// Records the outcome and sends the browser on: 303 to the invitation's
  /// redirect URL when it is allowed, else to the done page.
  /// `tenantID`: the tenant a passcode guest signs in to next time (nil on the home-tenant path).
  private func finish(_ id: String, preview: InvitationPreview, redirectURL: String, tenantID: String?) -> HTTPResponse {
    sessions.update(id) { session in
      session.passcode = nil
      session.done = .init(
        tenantDisplayName: preview.tenantDisplayName, groupNames: preview.groupNames, applicationNames: preview.applicationNames,
        redirectURL: redirectURL, signInPath: tenantID.map { "/signin?tenant=" + FormEncoding.percentEncode($0) } ?? "")
    }
    return .seeOther(allowedRedirect(redirectURL) ?? "/redeem/done")
  }

  /// The redirect URL if the browser may be sent there: an absolute http(s)
  /// URL that is not the service's own base URL (that one shows the done page).
  /// The tenant's redirect allow list applies in the service when it is set.
  func allowedRedirect(_ url: String) -> String? {
    let lower = url.lowercased()
    guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else { return nil }
    guard !url.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " || $0 == "\"" || $0 == "<" || $0 == ">" }) else { return nil }
    let trimmedBase = publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL
    if url == trimmedBase || url == trimmedBase + "/" { return nil }
    return url
  }

  private func signInText(_ preview: InvitationPreview, _ strings: WebStrings) -> String {
    switch preview.signIn {
    case .homeTenant where !preview.providerName.isEmpty: strings.signInHomeProvider(preview.providerName)
    case .partnerProvider: strings.signInPartner(preview.providerName)
    case .homeTenant: strings.signInHome
    case .emailPasscode: strings.signInPasscode(preview.maskedEmail)
    case .unavailable: strings.signInUnavailable
    }
  }

  /// The page for an invitation that can no longer be redeemed, if it is one.
  private func closedPage(_ preview: InvitationPreview, strings: WebStrings) -> HTTPResponse? {
    let (heading, body): (String, String)
    switch preview.status {
    case .pendingAcceptance: return nil
    case .expired: (heading, body) = (strings.expiredHeading, strings.expiredBody)
    case .revoked: (heading, body) = (strings.revokedHeading, strings.revokedBody)
    case .accepted: (heading, body) = (strings.acceptedHeading, strings.acceptedBody)
    default: (heading, body) = (strings.unknownHeading, strings.unknownBody)
    }
    return Page(status: 410, language: strings.email.language, title: heading, body: Page.header(strings) + Page.message(heading, body)).response
  }

  private func errorPage(_ error: any Error, strings: WebStrings) -> HTTPResponse {
    let rpc = error as? RPCError
    switch (rpc?.code, rpc?.reason) {
    case (.notFound?, _), (.invalidArgument?, _):
      return Page(status: 404, language: strings.email.language, title: strings.unknownHeading,
                  body: Page.header(strings) + Page.message(strings.unknownHeading, strings.unknownBody)).response
    case (.resourceExhausted?, _):
      return Page(status: 429, language: strings.email.language, title: strings.rateLimitedHeading,
                  body: Page.header(strings) + Page.message(strings.rateLimitedHeading, strings.rateLimitedBody)).response
    case (_, .invitationExpired?):
      return Page(status: 410, language: strings.email.language, title: strings.expiredHeading,
                  body: Page.header(strings) + Page.message(strings.expiredHeading, strings.expiredBody)).response
    case (_, .invitationRevoked?):
      return Page(status: 410, language: strings.email.language, title: strings.revokedHeading,
                  body: Page.header(strings) + Page.message(strings.revokedHeading, strings.revokedBody)).response
    case (_, .invitationAlreadyRedeemed?):
      return Page(status: 410, language: strings.email.language, title: strings.acceptedHeading,
                  body: Page.header(strings) + Page.message(strings.acceptedHeading, strings.acceptedBody)).response
    default:
      let message = rpc?.message ?? "internal error"
      return Page(status: rpc == nil ? 500 : 400, language: strings.email.language, title: strings.failedHeading,
                  body: Page.header(strings) + Page.message(strings.failedHeading, message)).response
    }
  }

  private func expiredForm(_ request: HTTPRequest) -> HTTPResponse {
    let strings = Page.strings(for: request)
    return Page(status: 403, language: strings.email.language, title: strings.formExpiredHeading,
                body: Page.header(strings) + Page.message(strings.formExpiredHeading, strings.formExpiredBody)).response
  }

  private func currentSession(_ request: HTTPRequest) -> (String, RedemptionWebSession)? {
    guard let id = request.cookie(Self.cookieName), let session = sessions.session(id) else { return nil }
    return (id, session)
  }
}
