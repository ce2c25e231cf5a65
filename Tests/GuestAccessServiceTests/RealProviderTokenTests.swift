import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessWeb
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tokens of a real OpenID provider (oidc-provider-mock, from the venv
/// Scripts/test makes) on the RPC: got through its authorization code flow
/// (`OIDCProviderMock.idToken`).
@Suite("Real provider tokens on the RPC")
struct RealProviderTokenTests {
  @Test func aMemberAndAFederatedGuestCallWithTheRealProvidersTokens() async throws {
    let provider = try await OIDCProviderMock.start()
    defer { provider.stop() }
    let issuer = provider.issuer
    // The provider's tokens carry the real time: the server's clock is set to it.
    let clock = TestClock()
    clock.followRealTime()
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

      let wendyToken = try await provider.idToken(clientID: "woodgrove-members", subject: "wendy")
      #expect(try await server.client(wendyToken).tenants.getUser(GetUserRequest(userID: "self")).id == wendy.user.id)
      let giovannaToken = try await provider.idToken(clientID: "contoso-app", subject: "gcarvalho")
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
