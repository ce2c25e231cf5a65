import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWeb
import Logging
import Testing

/// Debian's Chromium, its driver and Selenium (Scripts/lib/install-deps.sh).
let chromiumBinary = "/usr/bin/chromium"
let chromedriverBinary = "/usr/bin/chromedriver"
let browserAvailable = FileManager.default.isExecutableFile(atPath: chromiumBinary)
  && FileManager.default.isExecutableFile(atPath: chromedriverBinary)
  && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/selenium/__init__.py")

/// The guest's path in a real headless browser: invitations sent by email
/// (spool transport), each link opened from its spooled `.eml`, through the
/// pages of the web listener to the redirect URL; then the passcode guest
/// signs in again on `/signin` with the passcode of the next `.eml`; the
/// outcome checked through the RPC. One browser session walks every case.
/// `GA_WEB_SCREENSHOTS=DIR` saves each page as a PNG (docs/images).
@Suite("Redemption in a browser", .enabled(if: browserAvailable, "needs chromium, chromium-driver and python3-selenium"))
struct RedemptionBrowserTests {
  @Test func guestsRedeemInABrowser() async throws {
    let web = try HTTPServer(
      configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), group: EventLoopGroup(count: 1, busyPoll: .zero),
      logger: Logger(label: "web-test"))
    defer { web.stop() }
    let base = "http://127.0.0.1:\(web.port)"
    // Proseware's identity provider (a real OpenID provider on loopback).
    let proseware = try await OIDCProviderMock.start()
    defer { proseware.stop() }
    try await withTestServer(configure: { $0.publicBaseURL = base; $0.oidcAllowHTTPLoopback = true }) { server in
      // The provider signs with the real clock: after the two hours skipped below, the server's clock is the real one,
      // and it runs with it (the walk takes minutes on a loaded machine; a token's `iat` may not be a minute ahead).
      server.clock.followRealTime(offsetSeconds: -7200)
      web.start(handler: WebApp(app: server.app, resendCooldown: .seconds(1)))
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.example")
      let northwind = try await server.makeTenant("Northwind", domain: "northwind.example")
      let bob = try await northwind.makeUser("Bob Brown", mail: "bob@northwind.example")
      let admin = contoso.adminClient
      let group = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Project Falcon"))
      let app = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Falcon Wiki"))
      let grants = InvitationGrants(groupIDs: [group.id], applicationIDs: [app.id])
      let landing = base + "/healthz?welcome=1"
      func invite(_ mail: String, redirect: String = "", language: String = "", message: String = "", expiresIn: Int64 = 0) async throws -> Invitation {
        try await admin.invitations.createInvitation(CreateInvitationRequest(
          invitedEmail: mail, redirectURL: redirect, sendInvitationMessage: true,
          messageInfo: InvitationMessageInfo(customizedMessageBody: message, messageLanguage: language), grants: grants,
          expiresInSeconds: expiresIn)).invitation
      }
      let alice = try await invite("alice@fabrikam.example", redirect: landing, message: "Welcome aboard <b>Falcon</b> & team!")
      let homeInvite = try await invite(bob.user.mail)
      let wrong = try await invite("wrong@fabrikam.example")
      let expired = try await invite("late@fabrikam.example", expiresIn: 3600)
      let revoked = try await invite("gone@fabrikam.example")
      let tampered = try await invite("csrf@fabrikam.example")
      let declined = try await invite("no@fabrikam.example", language: "fr")
      _ = try await admin.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: IdentityProvider(
        displayName: "Proseware", kind: .openidConnect, use: .partner,
        oidc: OpenIDConnectSettings(issuer: proseware.issuer, clientID: "contoso-guests", clientSecret: "s3cret"), domains: ["proseware.com"])))
      let giovanna = try await invite("gcarvalho@proseware.com", redirect: landing)
      try await proseware.setUser("giovanna", ["email": "gcarvalho@proseware.com", "email_verified": true, "name": "Giovanna Carvalho"])
      // Every invitation email delivered before one is revoked and one expires.
      let spool = server.app.settings.email.spoolDir ?? server.dataDir + "/outbox"
      let deadline = ContinuousClock.now + .seconds(10).scaled
      while ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).filter({ $0.hasSuffix(".eml") }).count < 8 {
        guard ContinuousClock.now < deadline else { throw TestFailure("the invitation emails were not spooled") }
        try await Task.sleep(for: .milliseconds(20))
      }
      _ = try await admin.invitations.revokeInvitation(RevokeInvitationRequest(invitationID: revoked.id))
      // Past the short invitation's expiry; the others last days.
      server.clock.advance(seconds: 7200)

      let directory = NSTemporaryDirectory() + "guestaccess-browser-" + UUID().uuidString
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let consent = "Review permissions"
      let plan: [String: Any] = [
        "base": base, "spool": spool,
        "chromium": chromiumBinary, "chromedriver": chromedriverBinary,
        "screenshots": ProcessInfo.processInfo.environment["GA_WEB_SCREENSHOTS"] ?? "",
        "cases": [
          ["name": "passcode", "kind": "passcode", "to": "alice@fabrikam.example", "redirect": landing,
           "invitation_texts": ["Contoso", "a***@fabrikam.example", "Welcome aboard <b>Falcon</b> & team!", "Falcon Wiki", "Project Falcon"],
           "consent_heading": consent, "passcode_heading": "Enter your passcode",
           "shot_invitation": "01-invitation", "shot_consent": "02-consent", "shot_passcode": "03-passcode"],
          ["name": "home", "kind": "home", "to": bob.user.mail, "api_key": bob.secret, "consent_heading": consent,
           "done_texts": ["Contoso", "Falcon Wiki"], "shot_consent": "04-consent-home", "shot": "05-done"],
          ["name": "wrong", "kind": "wrong", "to": "wrong@fabrikam.example", "consent_heading": consent,
           "passcode_heading": "Enter your passcode",
           "wrong_texts": ["4 attempts left", "3 attempts left", "2 attempts left", "1 attempt left", "Too many wrong passcodes"],
           "shot": "06-passcode-wrong"],
          ["name": "expired", "kind": "expired", "to": "late@fabrikam.example", "heading": "This invitation expired", "shot": "07-expired"],
          // Revoking erases the ticket: it reads as unknown.
          ["name": "revoked", "kind": "revoked", "to": "gone@fabrikam.example", "heading": "This link does not work", "shot": "08-revoked"],
          ["name": "unknown", "kind": "unknown", "to": "", "heading": "This link does not work"],
          ["name": "csrf", "kind": "csrf", "to": "csrf@fabrikam.example", "consent_heading": consent, "heading": "This page expired",
           "shot": "10-form-expired"],
          // Giovanna redeems through Proseware's identity provider (cancelling once first).
          ["name": "federated", "kind": "federated", "to": "gcarvalho@proseware.com", "redirect": landing, "sub": "giovanna",
           "invitation_texts": ["Contoso", "Proseware"], "continue_text": "Continue with Proseware", "consent_heading": consent,
           "provider_heading": "Authorize Client", "refused_text": "The sign-in did not work",
           "shot_invitation": "16-invitation-provider", "shot_provider": "17-provider-sign-in", "shot_refused": "18-provider-cancelled"],
          ["name": "decline", "kind": "decline", "to": "no@fabrikam.example", "consent_heading": "Vérifier les autorisations",
           "heading": "Invitation refusée", "shot_consent": "11-consent-fr", "shot": "12-declined-fr"],
          // Alice, accepted by passcode above, signs in again.
          ["name": "signin", "kind": "signin", "to": "alice@fabrikam.example", "tenant": contoso.id,
           "signin_heading": "Sign in as a guest", "passcode_heading": "Enter your passcode",
           "done_texts": ["You are signed in", "Contoso", "alice@fabrikam.example", "Falcon Wiki", "Project Falcon"],
           "signed_out_heading": "You are signed out", "expired_heading": "This page expired",
           "shot_form": "13-signin", "shot_passcode": "14-signin-passcode", "shot": "15-signin-done"],
          // Bob (a home-tenant guest) gets the same pages and no email.
          ["name": "signin_ineligible", "kind": "signin_ineligible", "to": bob.user.mail, "tenant": contoso.id,
           "signin_heading": "Sign in as a guest", "passcode_heading": "Enter your passcode",
           "wrong_text": "That passcode is not right. 4 attempts left."],
        ],
      ]
      let planFile = directory + "/plan.json"
      let resultFile = directory + "/result.json"
      try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: planFile))
      let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Browser/redemption_walk.py").path
      // Niced: Chromium must not slow the timing-sensitive suites running beside it.
      let output = try await Subprocess.run("/usr/bin/nice", ["-n", "15", systemPython, script, planFile, resultFile], timeout: .seconds(120))
      #expect(output.status == 0, "browser walk failed:\n\(output.stderrText)")

      // The outcomes, through the RPC.
      let aliceGuest = try await admin.guests.getGuest(GetGuestRequest(userID: alice.guestUserID))
      #expect(aliceGuest.externalUserState == .accepted)
      #expect(aliceGuest.identities.first?.signInType == .emailOtp)
      let bobGuest = try await admin.guests.getGuest(GetGuestRequest(userID: homeInvite.guestUserID))
      #expect(bobGuest.externalUserState == .accepted)
      #expect(bobGuest.identities.first?.signInType == .homeTenant)
      for guest in [aliceGuest, bobGuest] {
        let groupAccess = try await admin.guests.checkAccess(CheckAccessRequest(
          principalUserID: guest.id, resourceID: group.id, resourceType: .group))
        let appAccess = try await admin.guests.checkAccess(CheckAccessRequest(
          principalUserID: guest.id, resourceID: app.id, resourceType: .application))
        #expect(groupAccess.allowed && appAccess.allowed, "grants of \(guest.mail)")
      }
      // Giovanna holds Proseware's identity.
      let giovannaGuest = try await admin.guests.getGuest(GetGuestRequest(userID: giovanna.guestUserID))
      #expect(giovannaGuest.externalUserState == .accepted)
      #expect(giovannaGuest.identities == [Identity(signInType: .federated, issuer: proseware.issuer, issuerAssignedID: "giovanna")])
      for pending in [wrong, tampered, declined] {
        let invitation = try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: pending.id))
        #expect(invitation.status == .pendingAcceptance, "\(pending.invitedEmail) stays usable")
      }
      for closed in [(expired, InvitationStatus.pendingAcceptance), (revoked, .revoked)] {
        let invitation = try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: closed.0.id))
        #expect(invitation.status == closed.1 || invitation.status == .expired)
      }
      let redeemed = try await server.audit(contoso, [.invitationRedeemed])
      #expect(redeemed.contains {
        $0.targetID == declined.id && $0.outcome == .failure
          && $0.details.contains { $0.key == "reason" && $0.value == InvitationServiceImpl.declinedReason }
      })
      #expect(redeemed.filter { $0.targetID == wrong.id && $0.details.contains { $0.key == "reason" && $0.value == "PASSCODE_INVALID" } }.count == 5)
      // Alice's sign-in: audited, and it issued a key of at most an hour; Bob's was refused without an email.
      let signIns = try await server.audit(contoso, [.guestSignedIn])
      #expect(signIns.filter { $0.targetID == alice.guestUserID && $0.outcome == .success }.count == 1)
      #expect(signIns.filter { $0.outcome == .failure && $0.details.contains { $0.key == "reason" && $0.value == "NOT_ELIGIBLE" } }.count == 1)
      let keys = try await admin.tenants.listCredentials(ListCredentialsRequest(userID: alice.guestUserID)).credentials
      let signInKey = keys.first { $0.displayName == "email passcode sign-in" }
      #expect(signInKey.map { $0.expiresAt - $0.createdAt <= 3_600_000 } == true, "\(keys)")
    }
  }
}
