import Crypto
import Foundation
import GuestAccessBase64
import GuestAccessClient
import GuestAccessCore
import GuestAccessLocks
import GuestAccessServer
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWeb
import Logging
import Testing

/// A provider the test serves on the project's own HTTP listener: its
/// discovery document, the JWKS of the test's key, and a token endpoint
/// answering whatever ID token the test signed last, recording each request.
private struct SigningProvider: HTTPHandler {
  let issuer: String
  let jwks: [UInt8]
  let nextToken: LockedValue<String>
  let requests: LockedValue<[HTTPRequest]>

  func respondImmediately(to request: HTTPRequest) -> HTTPResponse? {
    func json(_ object: Any) -> HTTPResponse {
      HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data()))
    }
    switch (request.method, request.path) {
    case ("GET", "/.well-known/openid-configuration"):
      return json(["issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks"])
    case ("GET", "/jwks"):
      return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: jwks)
    case ("POST", "/token"):
      requests.withLock { $0.append(request) }
      return json(["id_token": nextToken.withLock { $0 }, "access_token": "unused", "token_type": "Bearer"])
    default:
      return .text(404, "not found\n")
    }
  }

  func respond(to request: HTTPRequest) async -> HTTPResponse { respondImmediately(to: request) ?? .text(404, "not found\n") }
}

/// The code exchange and the ID token checks of a browser redemption, with
/// tokens the test signs itself behind a real token endpoint: each bad token
/// is refused with its reason and the invitation stays usable; the request
/// to the token endpoint carries the PKCE verifier of the S256 challenge sent.
@Suite("Federated redemption with tokens the test signs")
struct FederatedTokenTests {
  @Test func everyBadTokenIsRefusedAndTheExchangeCarriesThePKCEVerifier() async throws {
    let signer = try TokenSigner(kid: "k1")
    let web = try HTTPServer(
      configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), group: EventLoopGroup(count: 1, busyPoll: .zero),
      logger: Logger(label: "test-provider"))
    defer { web.stop() }
    let issuer = "http://127.0.0.1:\(web.port)"
    let nextToken = LockedValue("")
    let requests = LockedValue<[HTTPRequest]>([])
    web.start(handler: SigningProvider(issuer: issuer, jwks: try TokenSigner.jwks([signer]), nextToken: nextToken, requests: requests))
    try await withTestServer(configure: { $0.oidcAllowHTTPLoopback = true }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.example")
      let admin = contoso.adminClient
      _ = try await admin.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: IdentityProvider(
        displayName: "Proseware", kind: .openidConnect, use: .partner,
        oidc: OpenIDConnectSettings(issuer: issuer, clientID: "contoso-guests", clientSecret: "s3cret:&"), domains: ["proseware.com"])))
      let invitation = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      let anonymous = server.client(nil)
      let now = server.clock.nowMillis() / 1000
      func claims(_ nonce: String, _ changes: [String: Any] = [:]) -> [String: Any] {
        var claims: [String: Any] = [
          "iss": issuer, "aud": "contoso-guests", "sub": "gc-sub", "exp": now + 600, "iat": now, "nonce": nonce,
          "email": "gcarvalho@proseware.com", "email_verified": true,
        ]
        for (name, value) in changes { claims[name] = value }
        return claims
      }
      /// Begins, lets the token endpoint answer `make(nonce)`, completes with a code.
      func attempt(_ make: (String) throws -> String) async throws -> (CompleteFederatedRedemptionResponse, authorizationURL: String) {
        let begun = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: invitation.invitation.redeemURL))
        let query = FormEncoding.decode(String(begun.authorizationURL.split(separator: "?", maxSplits: 1).last ?? ""))
        let token = try make(query["nonce"] ?? "")
        nextToken.withLock { $0 = token }
        let done = try await anonymous.invitations.completeFederatedRedemption(CompleteFederatedRedemptionRequest(state: begun.state, code: "the-code"))
        return (done, begun.authorizationURL)
      }
      let forger = try TokenSigner(kid: "k1")
      let rotated = try TokenSigner(kid: "k2")
      let publicKey = Array(signer.rsa.publicKey.pkcs1DERRepresentation)
      let cases: [(String, ErrorReason, (String) throws -> String)] = [
        ("signed by another key under the provider's kid", .tokenSignatureInvalid, { try forger.sign(claims($0)) }),
        ("another issuer", .tokenIssuerMismatch, { try signer.sign(claims($0, ["iss": "https://evil.example"])) }),
        ("another client", .tokenAudienceMismatch, { try signer.sign(claims($0, ["aud": "another-client"])) }),
        ("expired", .tokenExpired, { try signer.sign(claims($0, ["exp": now - 120])) }),
        ("alg none", .tokenAlgorithmNotAllowed, { TokenSigner.part(["alg": "none", "kid": "k1"]) + "." + TokenSigner.part(claims($0)) + "." }),
        ("HS256 keyed with the public key", .tokenAlgorithmNotAllowed, { nonce in
          let input = TokenSigner.part(["alg": "HS256", "kid": "k1"]) + "." + TokenSigner.part(claims(nonce))
          return input + "." + Base64.url.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: publicKey))))
        }),
        ("a kid the provider does not publish", .tokenKeyUnknown, { try rotated.sign(claims($0)) }),
        ("another sign-in's nonce", .tokenNonceMismatch, { try signer.sign(claims("another-" + $0)) }),
      ]
      for (what, reason, make) in cases {
        await expectError(.unauthenticated, reason: reason) { _ = try await attempt(make) }
        let current = try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: invitation.invitation.id))
        #expect(current.status == .pendingAcceptance, "after a token \(what)")
      }
      let (done, url) = try await attempt { try signer.sign(claims($0)) }
      #expect(done.guest.identities == [Identity(signInType: .federated, issuer: issuer, issuerAssignedID: "gc-sub")])
      // The last exchange: the code, the redirect URI, the verifier of the URL's S256 challenge, the client's credentials (Basic, form-encoded).
      let exchange = try #require(requests.withLock { $0.last })
      let form = exchange.form
      #expect(form["grant_type"] == "authorization_code" && form["code"] == "the-code")
      #expect(form["redirect_uri"] == "https://guests.example.test/redeem/callback")
      let verifier = try #require(form["code_verifier"])
      #expect(verifier.count == 43)
      let challenge = FormEncoding.decode(String(url.split(separator: "?", maxSplits: 1).last ?? ""))["code_challenge"]
      #expect(challenge == Base64.url.encode(Array(SHA256.hash(data: Array(verifier.utf8)))))
      #expect(exchange.header("authorization") == "Basic " + Data("contoso-guests:s3cret%3A%26".utf8).base64EncodedString())
      #expect(form["client_secret"] == nil, "the secret is not in the form")
      // Starts are bounded per invitation: 20 an hour.
      let other = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "rkhan@proseware.com"))
      for _ in 0..<20 {
        _ = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: other.invitation.redeemURL))
      }
      await expectError(.resourceExhausted, reason: .redemptionRateLimited) {
        _ = try await anonymous.invitations.beginFederatedRedemption(BeginFederatedRedemptionRequest(ticket: other.invitation.redeemURL))
      }
    }
  }
}
