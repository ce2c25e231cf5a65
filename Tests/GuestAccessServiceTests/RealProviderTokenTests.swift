import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessWeb
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tokens of a real OpenID provider (oidc-provider-mock, from the venv
/// Scripts/test makes) on the RPC: got through its authorization code flow,
/// driven over plain HTTP as a browser would (the login form posted with the
/// subject, the code redeemed at the token endpoint).
@Suite("Real provider tokens on the RPC")
struct RealProviderTokenTests {
  /// An ID token for `subject` and `clientID` from the provider on `port`.
  static func signIn(port: Int, clientID: String, subject: String) async throws -> String {
    let redirect = FormEncoding.percentEncode("http://127.0.0.1:1/callback")
    let query = "client_id=\(clientID)&redirect_uri=\(redirect)&response_type=code&scope=openid%20email&state=s1&nonce=n1"
    let form = "sub=\(FormEncoding.percentEncode(subject))"
    let login = try RawHTTPConnection(port: port)
    login.send(
      "POST /oauth2/authorize?\(query) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: \(form.utf8.count)\r\nConnection: close\r\n\r\n\(form)")
    guard let consent = await login.read(), consent.status == 302, let location = consent.header("Location"),
      let code = URLComponents(string: location)?.queryItems?.first(where: { $0.name == "code" })?.value
    else { throw TestFailure("the provider issued no authorization code") }
    let exchange = "grant_type=authorization_code&code=\(FormEncoding.percentEncode(code))&redirect_uri=\(redirect)"
      + "&client_id=\(clientID)&client_secret=any"
    let tokenCall = try RawHTTPConnection(port: port)
    tokenCall.send(
      "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: \(exchange.utf8.count)\r\nConnection: close\r\n\r\n\(exchange)")
    guard let answer = await tokenCall.read(), answer.status == 200,
      let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any], let idToken = json["id_token"] as? String
    else { throw TestFailure("the provider issued no ID token") }
    return idToken
  }

  @Test func aMemberAndAFederatedGuestCallWithTheRealProvidersTokens() async throws {
    let (provider, port, issuer) = try await ProviderKeyFetchTests.startProvider()
    defer { provider.signal(SIGTERM) }
    // The provider's tokens carry the real time: the server's clock is set to it.
    let clock = TestClock()
    clock.advance(seconds: Int64(Date().timeIntervalSince1970) - clock.nowMillis() / 1000)
    try await withTestServer(clock: clock, configure: { $0.oidcAllowHTTPLoopback = true }) { server in
      // Woodgrove's people sign in through the provider (MEMBERS); Contoso's guests from Proseware too (PARTNER).
      let woodgrove = try await server.makeTenant("Woodgrove", domain: "woodgrove.com")
      try await woodgrove.addProvider(.members, issuer: issuer, clientID: "woodgrove-members")
      let wendy = try await woodgrove.makeUser("Wendy", mail: "wendy@woodgrove.com")
      try await server.link(issuer: issuer, subject: "wendy", to: wendy.user)
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      try await contoso.passcodeRedemptionOnly()
      try await contoso.addProvider(.partner, issuer: issuer, clientID: "contoso-app", domains: ["proseware.com"])
      let guest = try await server.passcodeGuest("gcarvalho@proseware.com", in: contoso).guest
      try await server.link(issuer: issuer, subject: "gcarvalho", to: guest)
      let app = try await contoso.adminClient.tenants.createApplication(CreateApplicationRequest(displayName: "Planner"))
      _ = try await contoso.adminClient.tenants.assignApplication(AssignApplicationRequest(applicationID: app.id, userID: guest.id))

      let wendyToken = try await Self.signIn(port: port, clientID: "woodgrove-members", subject: "wendy")
      #expect(try await server.client(wendyToken).tenants.getUser(GetUserRequest(userID: "self")).id == wendy.user.id)
      let giovannaToken = try await Self.signIn(port: port, clientID: "contoso-app", subject: "gcarvalho")
      let giovanna = server.client(giovannaToken, tenant: contoso.id)
      #expect(try await giovanna.tenants.listApplications(ListApplicationsRequest()).applications.map(\.id) == [app.id])
      // Wendy's token is for Woodgrove's client: in Contoso it is nobody.
      await expectError(.permissionDenied, reason: .notAGuest) {
        try await server.client(wendyToken, tenant: contoso.id).tenants.listApplications(ListApplicationsRequest())
      }
      _ = try await contoso.adminClient.guests.blockSignIn(BlockSignInRequest(userID: guest.id))
      await expectError(.permissionDenied, reason: .signInBlocked) { try await giovanna.tenants.listApplications(ListApplicationsRequest()) }
    }
  }
}
