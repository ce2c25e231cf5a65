import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessTLS
import GuestAccessTestSupport
import GuestAccessWeb
import Testing

/// Redemption through an identity provider (authorization code with PKCE,
/// state and nonce) through the RPC against a real server and a real OpenID
/// provider (oidc-provider-mock), driven as a browser would: the
/// authorization URL from BeginFederatedRedemption, the provider's form, the
/// redirect's code and state into CompleteFederatedRedemption. Every refusal
/// leaves the invitation usable.
@Suite("Federated redemption", .enabled(if: FileManager.default.isExecutableFile(atPath: ProviderKeyFetchTests.providerExecutable),
                                        "oidc-provider-mock is missing: Scripts/test creates .build/oidc-venv"))
struct FederatedRedemptionTests {
  /// A server allowing loopback http providers, its clock on real time (the provider signs with the real clock).
  static func withFederationServer(_ body: (TestServer, OIDCProviderMock) async throws -> Void) async throws {
    let provider = try await OIDCProviderMock.start()
    defer { provider.stop() }
    try await withTestServer(configure: { $0.oidcAllowHTTPLoopback = true }) { server in
      server.clock.followRealTime()
      try await body(server, provider)
    }
  }

  static func provider(_ name: String, use: IdentityProviderUse, issuer: String, domains: [String] = []) -> IdentityProvider {
    IdentityProvider(
      displayName: name, kind: .openidConnect, use: use,
      oidc: OpenIDConnectSettings(issuer: issuer, clientID: "client-" + name.lowercased().replacingOccurrences(of: " ", with: "-"), clientSecret: "s3cret-\(name)"), domains: domains)
  }

  /// Begins, signs in at the provider as `sub` with `claims` (nil: denies), completes.
  static func redeem(
    _ anonymous: GuestAccessClient, _ provider: OIDCProviderMock, ticket: String, sub: String?, claims: [String: Any] = [:],
    alter: (String) -> String = { $0 }
  ) async throws -> CompleteFederatedRedemptionResponse {
    let begun = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: ticket))
    if let sub { try await provider.setUser(sub, claims) }
    let callback = try await provider.authorize(alter(begun.authorizationURL), sub: sub)
    // oidc-provider-mock drops `state` from its error redirect (a conformant provider returns it,
    // RFC 6749 4.1.2.1); the pages then use their session's state, as this does.
    #expect(callback.state == begun.state || (sub == nil && callback.state.isEmpty))
    return try await anonymous.invitations.completeFederatedRedemption(CompleteFederatedRedemptionRequest(
      state: callback.state.isEmpty ? begun.state : callback.state, code: callback.code, error: callback.error))
  }

  @Test func partnerGuestRedeemsWithAFederatedIdentityAndEveryRefusalLeavesTheInvitation() async throws {
    try await Self.withFederationServer { server, provider in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.example")
      let admin = contoso.adminClient
      let idp = try await admin.tenants.createIdentityProvider(CreateIdentityProviderRequest(
        provider: Self.provider("Proseware", use: .partner, issuer: provider.issuer, domains: ["proseware.com"])))
      let anonymous = server.client(nil)
      let invitation = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      let ticket = invitation.invitation.redeemURL

      // The order selects the provider: no passcode for this address.
      await expectError(.failedPrecondition, reason: .providerSignInRequired) {
        _ = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: ticket))
      }
      let begun = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: ticket))
      #expect(begun.providerDisplayName == "Proseware" && begun.step == .partnerProvider)
      for part in ["response_type=code", "client_id=client-proseware", "code_challenge_method=S256", "code_challenge=", "nonce=",
                   "state=\(begun.state)", "redirect_uri=" + PercentEncoding.encode("https://guests.example.test/redeem/callback")] {
        #expect(begun.authorizationURL.contains(part), "\(part) in \(begun.authorizationURL)")
      }

      func stillPending() async throws {
        let current = try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: invitation.invitation.id))
        #expect(current.status == .pendingAcceptance)
      }
      // The provider says the address is not verified.
      await expectError(.unauthenticated, reason: .emailNotVerified) {
        _ = try await Self.redeem(anonymous, provider, ticket: ticket, sub: "gc-unverified",
                                  claims: ["email": "gcarvalho@proseware.com", "email_verified": false])
      }
      try await stillPending()
      // Another address at the same provider.
      await expectError(.permissionDenied, reason: .invitationEmailMismatch) {
        _ = try await Self.redeem(anonymous, provider, ticket: ticket, sub: "someone",
                                  claims: ["email": "someone@proseware.com", "email_verified": true])
      }
      try await stillPending()
      // The invitee cancels at the provider.
      await expectError(.unauthenticated, reason: .providerSignInFailed) {
        _ = try await Self.redeem(anonymous, provider, ticket: ticket, sub: nil)
      }
      try await stillPending()
      // A code obtained for another nonce (the URL's nonce replaced) is refused.
      await expectError(.unauthenticated, reason: .tokenNonceMismatch) {
        _ = try await Self.redeem(anonymous, provider, ticket: ticket, sub: "gc-sub",
                                  claims: ["email": "gcarvalho@proseware.com", "email_verified": true]) { url in
          url.replacingOccurrences(of: "nonce=", with: "nonce=attacker")
        }
      }
      try await stillPending()

      // A sign-in finished more than 10 minutes after it began (the state is spent before the code is used).
      let slow = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: ticket))
      let slowCallback = try await provider.authorize(slow.authorizationURL, sub: "gc-sub")
      server.clock.advance(seconds: 601)
      await expectError(.failedPrecondition, reason: .federatedStateExpired) {
        _ = try await anonymous.invitations.completeFederatedRedemption(CompleteFederatedRedemptionRequest(
          state: slowCallback.state, code: slowCallback.code))
      }
      server.clock.advance(seconds: -601)
      try await stillPending()

      // The right person: a tampered state is unknown, the real one redeems once.
      let start = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: ticket))
      try await provider.setUser("gc-sub", ["email": "GCarvalho@proseware.com", "email_verified": true])
      let callback = try await provider.authorize(start.authorizationURL, sub: "gc-sub")
      await expectError(.notFound, reason: .federatedStateInvalid) {
        _ = try await anonymous.invitations.completeFederatedRedemption(CompleteFederatedRedemptionRequest(
          state: callback.state + "x", code: callback.code))
      }
      try await stillPending()
      let done = try await anonymous.invitations.completeFederatedRedemption(CompleteFederatedRedemptionRequest(
        state: callback.state, code: callback.code))
      #expect(done.tenantID == contoso.id && done.guest.externalUserState == .accepted)
      let guest = try await admin.guests.getGuest(GetGuestRequest(userID: invitation.invitation.guestUserID))
      #expect(guest.externalUserState == .accepted)
      #expect(guest.identities == [Identity(signInType: .federated, issuer: provider.issuer, issuerAssignedID: "gc-sub")])
      // The redeemed guest calls the RPC with the provider's own token and `tenant: Contoso`,
      // until the tenant blocks it: the same token is refused on the next call.
      let planner = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Planner"))
      _ = try await admin.tenants.assignApplication(AssignApplicationRequest(applicationID: planner.id, userID: guest.id))
      let token = try await provider.idToken(clientID: "client-proseware", subject: "gc-sub")
      let giovanna = server.client(token, tenant: contoso.id)
      #expect(try await giovanna.tenants.listApplications(ListApplicationsRequest()).applications.map(\.id) == [planner.id])
      _ = try await admin.guests.blockSignIn(BlockSignInRequest(userID: guest.id))
      await expectError(.permissionDenied, reason: .signInBlocked) {
        _ = try await giovanna.tenants.listApplications(ListApplicationsRequest())
      }
      _ = try await admin.guests.unblockSignIn(UnblockSignInRequest(userID: guest.id))
      // Replaying the state (and its code) is refused.
      await expectError(.failedPrecondition, reason: .federatedStateUsed) {
        _ = try await anonymous.invitations.completeFederatedRedemption(CompleteFederatedRedemptionRequest(
          state: callback.state, code: callback.code))
      }
      let redeemed = try await server.audit(contoso, [.invitationRedeemed])
      #expect(redeemed.contains { $0.outcome == .success && $0.details.contains { $0.key == "sign_in_type" && $0.value == SignInType.federated.protoName } })
      let refusals = redeemed.filter { $0.outcome == .failure }.compactMap { $0.details.first { $0.key == "reason" }?.value }
      for reason in ["EMAIL_NOT_VERIFIED", "INVITATION_EMAIL_MISMATCH", "PROVIDER_SIGN_IN_FAILED", "TOKEN_NONCE_MISMATCH"] {
        #expect(refusals.contains(reason), "\(reason) audited in \(refusals)")
      }

      // The PARTNER provider vouches for its domain: no email_verified claim at all is enough (Entra ID sends none).
      let second = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "rkhan@proseware.com"))
      let vouched = try await Self.redeem(anonymous, provider, ticket: second.invitation.redeemURL, sub: "rk-sub",
                                          claims: ["email": "rkhan@proseware.com"])
      #expect(vouched.guest.identities.first?.signInType == .federated)
      // The same provider account cannot become a second guest of the tenant.
      let third = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "alias@proseware.com"))
      await expectError(.alreadyExists, reason: .guestExists) {
        _ = try await Self.redeem(anonymous, provider, ticket: third.invitation.redeemURL, sub: "rk-sub",
                                  claims: ["email": "alias@proseware.com", "email_verified": true])
      }
      // Without the provider, the order falls back to the passcode.
      _ = try await admin.tenants.deleteIdentityProvider(DeleteIdentityProviderRequest(id: idp.id))
      await expectError(.failedPrecondition, reason: .redemptionStepNotOffered) {
        _ = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: third.invitation.redeemURL))
      }
      let sent = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: third.invitation.redeemURL))
      #expect(sent.result == .passcodeSent)
    }
  }

  @Test func membersProviderRedeemsAsTheHomeTenantUser() async throws {
    try await Self.withFederationServer { server, provider in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.example")
      let northwind = try await server.makeTenant("Northwind", domain: "northwind.example")
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.example")
      _ = try await fabrikam.adminClient.tenants.createIdentityProvider(CreateIdentityProviderRequest(
        provider: Self.provider("Fabrikam SSO", use: .members, issuer: provider.issuer)))
      let bob = try await fabrikam.makeUser("Bob Brown", mail: "bob@fabrikam.example")
      let anonymous = server.client(nil)

      // First sign-in: linked by the verified address in Fabrikam's verified domain.
      let invitation = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "bob@fabrikam.example"))
      let begun = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: invitation.invitation.redeemURL))
      #expect(begun.step == .homeTenant && begun.providerDisplayName == "Fabrikam SSO")
      try await provider.setUser("bob-sub", ["email": "bob@fabrikam.example", "email_verified": true])
      let callback = try await provider.authorize(begun.authorizationURL, sub: "bob-sub")
      let done = try await anonymous.invitations.completeFederatedRedemption(CompleteFederatedRedemptionRequest(
        state: callback.state, code: callback.code))
      #expect(done.guest.identities == [Identity(signInType: .homeTenant, issuer: fabrikam.id, issuerAssignedID: bob.user.id)])

      // Later sign-ins find Bob by the link (issuer, sub), whatever the address claim says now.
      let again = try await northwind.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "bob@fabrikam.example"))
      let linked = try await Self.redeem(anonymous, provider, ticket: again.invitation.redeemURL, sub: "bob-sub",
                                         claims: ["email": "robert@elsewhere.example", "email_verified": false])
      #expect(linked.guest.identities.first?.issuerAssignedID == bob.user.id)

      // Nobody of Fabrikam has this address: refused, the invitation stays usable.
      let carol = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "carol@fabrikam.example"))
      await expectError(.permissionDenied, reason: .homeIdentityUnverified) {
        _ = try await Self.redeem(anonymous, provider, ticket: carol.invitation.redeemURL, sub: "carol-sub",
                                  claims: ["email": "carol@fabrikam.example", "email_verified": true])
      }
      // An unverified address never links on a first sign-in.
      await expectError(.unauthenticated, reason: .emailNotVerified) {
        _ = try await Self.redeem(anonymous, provider, ticket: carol.invitation.redeemURL, sub: "carol-sub",
                                  claims: ["email": "carol@fabrikam.example", "email_verified": false])
      }
      let pending = try await contoso.adminClient.invitations.getInvitation(GetInvitationRequest(invitationID: carol.invitation.id))
      #expect(pending.status == .pendingAcceptance)
    }
  }

  @Test func theCallbackPageOnlyFinishesTheSignInItsOwnBrowserStarted() async throws {
    try await Self.withFederationServer { server, provider in
      let web = try startWeb(server)
      defer { web.stop() }
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.example")
      _ = try await contoso.adminClient.tenants.createIdentityProvider(CreateIdentityProviderRequest(
        provider: Self.provider("Proseware", use: .partner, issuer: provider.issuer, domains: ["proseware.com"])))
      let invitation = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      /// A browser session on the invitation: its cookie.
      func open(_ connection: RawHTTPConnection) async throws -> String {
        connection.send("GET /redeem?ticket=\(invitation.invitation.ticket) HTTP/1.1\r\nHost: a\r\n\r\n")
        let page = try #require(await connection.read())
        #expect(page.body.contains("Continue with Proseware"))
        return try #require(page.sessionCookie)
      }
      let victim = try RawHTTPConnection(port: web.port)
      let session = try await open(victim)
      victim.send("GET /redeem/consent HTTP/1.1\r\nHost: a\r\nCookie: \(session)\r\n\r\n")
      let consent = try #require(await victim.read())
      let csrf = try #require(consent.csrf)
      let form = "csrf=\(FormEncoding.percentEncode(csrf))&decision=accept"
      victim.send("POST /redeem/consent HTTP/1.1\r\nHost: a\r\nCookie: \(session)\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)")
      let redirect = try #require(await victim.read())
      let authorization = try #require(redirect.header("Location"))
      #expect(redirect.status == 303 && authorization.hasPrefix(provider.issuer + "/oauth2/authorize?"))
      try await provider.setUser("gc-sub", ["email": "gcarvalho@proseware.com", "email_verified": true])
      let callback = try await provider.authorize(authorization, sub: "gc-sub")
      let path = "/redeem/callback?code=\(FormEncoding.percentEncode(callback.code))&state=\(FormEncoding.percentEncode(callback.state))"
      // Played into another browser's session, or without one, or with another state: nothing happens.
      let attacker = try RawHTTPConnection(port: web.port)
      let other = try await open(attacker)
      for (cookie, target) in [(other, path), ("", path), (session, path.replacingOccurrences(of: "state=", with: "state=x"))] {
        attacker.send("GET \(target) HTTP/1.1\r\nHost: a\r\n\(cookie.isEmpty ? "" : "Cookie: \(cookie)\r\n")\r\n")
        let refused = try #require(await attacker.read())
        #expect(refused.status == 403 && refused.body.contains("This page expired"))
      }
      let pending = try await contoso.adminClient.invitations.getInvitation(GetInvitationRequest(invitationID: invitation.invitation.id))
      #expect(pending.status == .pendingAcceptance)
      // The browser that started it finishes it.
      victim.send("GET \(path) HTTP/1.1\r\nHost: a\r\nCookie: \(session)\r\n\r\n")
      let finished = try #require(await victim.read())
      #expect(finished.status == 303 && finished.header("Location") == "/redeem/done")
      let guest = try await contoso.adminClient.guests.getGuest(GetGuestRequest(userID: invitation.invitation.guestUserID))
      #expect(guest.identities.first?.signInType == .federated)
    }
  }
}
