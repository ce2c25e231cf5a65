import Crypto
import Foundation
import GuestAccessBase64
import GuestAccessClient
import GuestAccessServer
import GuestAccessStorage
import Testing

/// Contoso trusts Proseware's provider for its guests (PARTNER) and its own
/// for its members (MEMBERS); Fabrikam, the attacker, runs a provider of its
/// own as MEMBERS and registered Proseware's issuer as a PARTNER provider of
/// its own, with another client id. Every provider is a `TestIssuers` issuer
/// whose keys the test holds.
struct Federation: Sendable {
  let server: TestServer
  let issuers: TestIssuers
  let contoso: TestTenant
  let fabrikam: TestTenant
  /// Contoso's member, linked to (contoso, "alex-sub").
  let alex: TestUser
  /// gcarvalho@proseware.com, Contoso's guest, linked to (proseware, "giovanna-sub").
  let guest: User
  let prosewareKeys: TokenSigner
  let contosoKeys: TokenSigner
  let fabrikamKeys: TokenSigner

  var seconds: Int { Int(server.clock.nowMillis() / 1000) }

  /// A token of issuer `name` signed by `signer` for `aud`, valid for 10 minutes; `changes` replace claims (NSNull removes).
  func token(
    _ signer: TokenSigner, issuer name: String, sub: String, aud: Any, changes: [String: Any] = [:], header: [String: Any]? = nil
  ) throws -> String {
    try signer.sign(claims(issuer: name, sub: sub, aud: aud, changes: changes), header: header)
  }

  func claims(issuer name: String, sub: String, aud: Any, changes: [String: Any] = [:]) -> [String: Any] {
    var claims: [String: Any] = [
      "iss": issuers.issuer(name), "sub": sub, "aud": aud, "exp": seconds + 600, "iat": seconds - 5, "email": "gcarvalho@proseware.com",
      "email_verified": true,
    ]
    for (key, value) in changes { claims[key] = value is NSNull ? nil : value }
    return claims
  }

  /// Giovanna's ID token from Proseware for Contoso's application.
  func giovannaToken(_ changes: [String: Any] = [:]) throws -> String {
    try token(prosewareKeys, issuer: "proseware", sub: "giovanna-sub", aud: "contoso-app", changes: changes)
  }

  /// Alex's ID token from Contoso's own provider.
  func alexToken() throws -> String {
    try token(contosoKeys, issuer: "contoso", sub: "alex-sub", aud: "contoso-members")
  }

  func client(_ token: String, tenant: String? = nil) -> GuestAccessClient { server.client(token, tenant: tenant) }

  /// Who `token` is in `tenant`: the caller's own guest object there, or its user at home.
  func caller(_ token: String, tenant: String? = nil) async throws -> String {
    if let tenant { return try await client(token, tenant: tenant).guests.getGuest(GetGuestRequest(userID: "self")).id }
    return try await client(token).tenants.getUser(GetUserRequest(userID: "self")).id
  }
}

extension TestServer {
  /// Links `(issuer, subject)` to `user` as the redemption or a first sign-in does.
  func link(issuer: String, subject: String, to user: User) async throws {
    try await app.store.write { try $0.linkFederatedIdentity(issuer: issuer, subject: subject, FederatedLink(tenantID: user.tenantID, userID: user.id)) }
  }
}

extension TestTenant {
  /// Adds an OpenID Connect provider.
  func addProvider(_ use: IdentityProviderUse, issuer: String, clientID: String, audiences: [String] = [], domains: [String] = []) async throws {
    _ = try await adminClient.tenants.createIdentityProvider(CreateIdentityProviderRequest(provider: IdentityProvider(
      displayName: clientID, kind: .openidConnect, use: use,
      oidc: OpenIDConnectSettings(issuer: issuer, clientID: clientID, accessTokenAudiences: audiences), domains: domains)))
  }

  /// Lets guests in by email passcode only (the redemption order), so a test guest can be made without a provider.
  func passcodeRedemptionOnly() async throws {
    _ = try await adminClient.tenants.updateSettings(UpdateSettingsRequest(
      settings: TenantSettings(redemptionOrder: [.emailPasscode]), updateMask: ["redemption_order"]))
  }
}

extension TokenSigner {
  /// `other`'s key under another kid.
  init(kid: String, key other: TokenSigner) {
    self.kid = kid
    rsa = other.rsa
  }

  /// Four RSA keys made once for the provider token tests (making one takes a while): each test
  /// picks its providers' keys from them under its own kids.
  static let shared: [TokenSigner] = (1...4).map { try! TokenSigner(kid: "shared-\($0)") }
}

/// Runs `body` against a real server with the providers of `Federation`.
func withFederation(_ body: (Federation) async throws -> Void) async throws {
  let issuers = try TestIssuers()
  defer { issuers.stop() }
  let prosewareKeys = TokenSigner(kid: "p1", key: TokenSigner.shared[0])
  let contosoKeys = TokenSigner(kid: "c1", key: TokenSigner.shared[1])
  let fabrikamKeys = TokenSigner(kid: "f1", key: TokenSigner.shared[2])
  try issuers.publish("proseware", [prosewareKeys])
  try issuers.publish("contoso", [contosoKeys])
  try issuers.publish("fabrikam", [fabrikamKeys])
  try await withTestServer(configure: { $0.oidcAllowHTTPLoopback = true }) { server in
    let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
    let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
    try await contoso.passcodeRedemptionOnly()
    try await contoso.addProvider(
      .partner, issuer: issuers.issuer("proseware"), clientID: "contoso-app", audiences: ["api://contoso"], domains: ["proseware.com"])
    try await contoso.addProvider(.members, issuer: issuers.issuer("contoso"), clientID: "contoso-members")
    try await fabrikam.addProvider(.members, issuer: issuers.issuer("fabrikam"), clientID: "fabrikam-members")
    try await fabrikam.addProvider(.partner, issuer: issuers.issuer("proseware"), clientID: "fabrikam-app", domains: ["proseware.com"])
    let alex = try await contoso.makeUser("Alex Wilber", mail: "alex@contoso.com")
    let guest = try await server.passcodeGuest("gcarvalho@proseware.com", in: contoso).guest
    try await server.link(issuer: issuers.issuer("contoso"), subject: "alex-sub", to: alex.user)
    try await server.link(issuer: issuers.issuer("proseware"), subject: "giovanna-sub", to: guest)
    try await body(Federation(
      server: server, issuers: issuers, contoso: contoso, fabrikam: fabrikam, alex: alex, guest: guest, prosewareKeys: prosewareKeys,
      contosoKeys: contosoKeys, fabrikamKeys: fabrikamKeys))
  }
}

/// `authorization: Bearer <provider JWT>` on the RPC, against a real server
/// over TCP: who a token is, what ends it, and every forgery an attacker
/// with a tenant of its own would try, each refused with its reason.
@Suite("Provider tokens on the RPC")
struct ProviderTokenRPCTests {
  @Test func membersAndPartnerGuestsCallWithTheirProvidersTokens() async throws {
    try await withFederation { f in
      let admin = f.contoso.adminClient
      #expect(try await f.caller(try f.alexToken()) == f.alex.user.id)
      let app = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Planner"))
      _ = try await admin.tenants.assignApplication(AssignApplicationRequest(applicationID: app.id, userID: f.guest.id))
      let giovanna = f.client(try f.giovannaToken(), tenant: f.contoso.id)
      #expect(try await giovanna.tenants.listApplications(ListApplicationsRequest()).applications.map(\.id) == [app.id])
      #expect(try await f.caller(try f.giovannaToken(), tenant: f.contoso.id) == f.guest.id)
      // A partner's guest has no home here: without `tenant` it is nobody.
      await expectError(.unauthenticated, reason: .federatedIdentityUnlinked) { try await f.caller(try f.giovannaToken()) }
      // An access token for the API audience Contoso configured works; one for another API does not.
      let access = try f.token(f.prosewareKeys, issuer: "proseware", sub: "giovanna-sub", aud: "api://contoso")
      #expect(try await f.caller(access, tenant: f.contoso.id) == f.guest.id)
      let elsewhere = try f.token(f.prosewareKeys, issuer: "proseware", sub: "giovanna-sub", aud: "api://elsewhere")
      await expectError(.unauthenticated, reason: .tokenAudienceMismatch) { try await f.caller(elsewhere, tenant: f.contoso.id) }
      #expect(f.issuers.keyFetches("proseware") == 1, "the issuer's keys are fetched once and kept")

      // Blocked: the same token is refused on the very next call; unblocked, it works again.
      _ = try await admin.guests.blockSignIn(BlockSignInRequest(userID: f.guest.id))
      await expectError(.permissionDenied, reason: .signInBlocked) { try await giovanna.tenants.listApplications(ListApplicationsRequest()) }
      _ = try await admin.guests.unblockSignIn(UnblockSignInRequest(userID: f.guest.id))
      #expect(try await giovanna.tenants.listApplications(ListApplicationsRequest()).applications.count == 1)

      // The token's own expiry holds for a cached principal: until exp plus the 60 s skew.
      let short = try f.giovannaToken(["exp": f.seconds + 30])
      #expect(try await f.caller(short, tenant: f.contoso.id) == f.guest.id)
      f.server.clock.advance(seconds: 80)
      #expect(try await f.caller(short, tenant: f.contoso.id) == f.guest.id)
      f.server.clock.advance(seconds: 20)
      await expectError(.unauthenticated, reason: .tokenExpired) { try await f.caller(short, tenant: f.contoso.id) }

      // Access that ends, and a removal, end the token's use too.
      var change = UpdateGuestRequest(userID: f.guest.id, accessExpiresAt: f.server.clock.nowMillis() + 10_000)
      change.updateMask = ["access_expires_at"]
      _ = try await admin.guests.updateGuest(change)
      #expect(try await f.caller(try f.giovannaToken(), tenant: f.contoso.id) == f.guest.id)
      f.server.clock.advance(seconds: 20)
      await expectError(.permissionDenied, reason: .accessExpired) { try await giovanna.tenants.listApplications(ListApplicationsRequest()) }
      change.accessExpiresAt = 0
      _ = try await admin.guests.updateGuest(change)
      _ = try await admin.guests.removeGuest(RemoveGuestRequest(userID: f.guest.id))
      await expectError(.permissionDenied, reason: .guestRemoved) { try await giovanna.tenants.listApplications(ListApplicationsRequest()) }
      // A member blocked at home likewise.
      _ = try await admin.tenants.updateUser(UpdateUserRequest(userID: f.alex.user.id, accountEnabled: false, updateMask: ["account_enabled"]))
      await expectError(.permissionDenied, reason: .signInBlocked) { try await f.caller(try f.alexToken()) }
    }
  }

  @Test func forgedTokensAreRefusedEachWithItsReason() async throws {
    try await withFederation { f in
      let contoso = f.contoso.id
      func refused(_ token: String, _ reason: ErrorReason, sourceLocation: SourceLocation = #_sourceLocation) async {
        await expectError(.unauthenticated, reason: reason, sourceLocation: sourceLocation) { try await f.caller(token, tenant: contoso) }
      }
      let good = try f.giovannaToken()
      #expect(try await f.caller(good, tenant: contoso) == f.guest.id)
      #expect(f.issuers.keyFetches("proseware") == 1)

      // Another key under the published kid; the real key's signature over other claims.
      await refused(try f.token(TokenSigner(kid: "p1", key: TokenSigner.shared[3]), issuer: "proseware", sub: "giovanna-sub", aud: "contoso-app"), .tokenSignatureInvalid)
      let parts = good.split(separator: ".")
      let altered = parts[0] + "." + TokenSigner.part(f.claims(issuer: "proseware", sub: "giovanna-sub", aud: "contoso-app", changes: ["exp": f.seconds + 9999])) + "." + parts[2]
      await refused(String(altered), .tokenSignatureInvalid)
      // An issuer no provider has (a trailing slash makes another issuer); the issuer of another provider, whose keys do not have Proseware's.
      await refused(try f.giovannaToken(["iss": "https://login.proseware.com/v2.0"]), .tokenIssuerUnknown)
      await refused(try f.giovannaToken(["iss": f.issuers.issuer("proseware") + "/"]), .tokenIssuerUnknown)
      await refused(try f.token(f.prosewareKeys, issuer: "fabrikam", sub: "giovanna-sub", aud: "contoso-app"), .tokenKeyUnknown)
      // An audience no provider of the issuer accepts; expired beyond the skew; not valid yet.
      await refused(try f.token(f.prosewareKeys, issuer: "proseware", sub: "giovanna-sub", aud: ["someone-else"]), .tokenAudienceMismatch)
      await refused(try f.giovannaToken(["exp": f.seconds - 61]), .tokenExpired)
      await refused(try f.giovannaToken(["nbf": f.seconds + 120]), .tokenNotYetValid)
      await refused(try f.giovannaToken(["sub": NSNull()]), .tokenMalformed)
      // `alg: none`, and HS256 keyed with the provider's public key: refused before any key is looked at.
      let claims = f.claims(issuer: "proseware", sub: "giovanna-sub", aud: "contoso-app")
      await refused(TokenSigner.part(["alg": "none", "typ": "JWT"]) + "." + TokenSigner.part(claims) + ".", .tokenAlgorithmNotAllowed)
      let input = TokenSigner.part(["alg": "HS256", "kid": "p1", "typ": "JWT"]) + "." + TokenSigner.part(claims)
      let publicKey = SymmetricKey(data: Array(f.prosewareKeys.rsa.publicKey.pemRepresentation.utf8))
      let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: publicKey)
      await refused(input + "." + Base64.url.encode(Array(mac)), .tokenAlgorithmNotAllowed)
      await refused("not.a.jwt", .tokenMalformed)
      #expect(f.issuers.keyFetches("proseware") == 1, "no forgery made the server fetch Proseware's keys again")

      // An unknown kid: one refetch, then refused; another unknown kid within the 5 minutes: no fetch.
      await refused(try f.token(TokenSigner(kid: "p2", key: TokenSigner.shared[3]), issuer: "proseware", sub: "giovanna-sub", aud: "contoso-app"), .tokenKeyUnknown)
      #expect(f.issuers.keyFetches("proseware") == 2)
      await refused(try f.token(TokenSigner(kid: "p3", key: TokenSigner.shared[1]), issuer: "proseware", sub: "giovanna-sub", aud: "contoso-app"), .tokenKeyUnknown)
      #expect(f.issuers.keyFetches("proseware") == 2)
      // The good token still works from the kept keys.
      #expect(try await f.caller(try f.giovannaToken(["jti": "again"]), tenant: contoso) == f.guest.id)
    }
  }

  @Test func anotherTenantsProvidersCannotActAsContosoUsers() async throws {
    try await withFederation { f in
      let contoso = f.contoso.id
      // Fabrikam's own provider vouching for Giovanna's sub and address, or for Alex's sub: nobody, in Contoso or at home.
      let asGiovanna = try f.token(f.fabrikamKeys, issuer: "fabrikam", sub: "giovanna-sub", aud: "fabrikam-members")
      let asAlex = try f.token(f.fabrikamKeys, issuer: "fabrikam", sub: "alex-sub", aud: "fabrikam-members", changes: ["email": "alex@contoso.com"])
      for token in [asGiovanna, asAlex] {
        await expectError(.unauthenticated, reason: .federatedIdentityUnlinked) { try await f.caller(token, tenant: contoso) }
        await expectError(.unauthenticated, reason: .federatedIdentityUnlinked) { try await f.caller(token) }
      }
      // A genuine Proseware token for Fabrikam's application (Fabrikam registered Proseware's issuer too): Fabrikam's
      // provider accepts it, Contoso's does not, so in Contoso it is nobody.
      let forFabrikam = try f.token(f.prosewareKeys, issuer: "proseware", sub: "giovanna-sub", aud: "fabrikam-app")
      await expectError(.unauthenticated, reason: .federatedIdentityUnlinked) { try await f.caller(forFabrikam, tenant: contoso) }
      // Fabrikam links Giovanna's sub at its provider to its own member: the token is that member, who is no guest of Contoso.
      let mallory = try await f.fabrikam.makeUser("Mallory", mail: "mallory@fabrikam.com")
      try await f.server.link(issuer: f.issuers.issuer("fabrikam"), subject: "giovanna-sub", to: mallory.user)
      #expect(try await f.caller(asGiovanna) == mallory.user.id)
      await expectError(.permissionDenied, reason: .notAGuest) { try await f.caller(asGiovanna, tenant: contoso) }
      // Contoso's member token is no guest anywhere else either.
      await expectError(.permissionDenied, reason: .notAGuest) { try await f.caller(try f.alexToken(), tenant: f.fabrikam.id) }

      // No existence oracle: a tenant that does not exist answers as one that exists but has no link for the identity.
      var answers: [String] = []
      for tenant in ["ten_0123456789abcdef", f.fabrikam.id] {
        do {
          _ = try await f.caller(try f.giovannaToken(), tenant: tenant)
        } catch let error as RPCError {
          answers.append("\(error.code) \(error.reason?.rawValue ?? "") \(error.message.replacingOccurrences(of: tenant, with: "T"))")
        }
      }
      #expect(answers.count == 2 && answers[0] == answers[1], "\(answers)")
    }
  }

  @Test func lookupGuestByIdentityIsScopedToTheTenant() async throws {
    try await withFederation { f in
      let request = LookupGuestByIdentityRequest(issuer: f.issuers.issuer("proseware"), issuerAssignedID: "giovanna-sub")
      #expect(try await f.contoso.adminClient.guests.lookupGuestByIdentity(request).id == f.guest.id)
      #expect(try await f.alex.client.guests.lookupGuestByIdentity(request).id == f.guest.id, "any member reads guests")
      // Fabrikam trusts the same issuer but has no such guest: NOT_FOUND, as for a sub nobody has.
      await expectError(.notFound, reason: .notFound) { try await f.fabrikam.adminClient.guests.lookupGuestByIdentity(request) }
      await expectError(.notFound, reason: .notFound) {
        try await f.contoso.adminClient.guests.lookupGuestByIdentity(LookupGuestByIdentityRequest(tenantID: f.fabrikam.id, issuer: request.issuer, issuerAssignedID: "giovanna-sub"))
      }
      await expectError(.notFound, reason: .notFound) {
        try await f.contoso.adminClient.guests.lookupGuestByIdentity(LookupGuestByIdentityRequest(issuer: request.issuer, issuerAssignedID: "someone"))
      }
      // A member linked through the MEMBERS provider is not a guest.
      await expectError(.notFound, reason: .notFound) {
        try await f.contoso.adminClient.guests.lookupGuestByIdentity(LookupGuestByIdentityRequest(issuer: f.issuers.issuer("contoso"), issuerAssignedID: "alex-sub"))
      }
      await expectError(.invalidArgument, reason: .invalidField) {
        try await f.contoso.adminClient.guests.lookupGuestByIdentity(LookupGuestByIdentityRequest(issuerAssignedID: "giovanna-sub"))
      }
      await expectError(.invalidArgument, reason: .invalidField) {
        try await f.contoso.adminClient.guests.lookupGuestByIdentity(LookupGuestByIdentityRequest(issuer: request.issuer, issuerAssignedID: String(repeating: "s", count: 256)))
      }
      // The guest itself, with its provider token, finds itself.
      #expect(try await f.client(try f.giovannaToken(), tenant: f.contoso.id).guests.lookupGuestByIdentity(request).id == f.guest.id)
      // A removed guest: admins only, as GetGuest.
      _ = try await f.contoso.adminClient.guests.removeGuest(RemoveGuestRequest(userID: f.guest.id))
      #expect(try await f.contoso.adminClient.guests.lookupGuestByIdentity(request).deletedAt != 0)
      await expectError(.notFound, reason: .notFound) { try await f.alex.client.guests.lookupGuestByIdentity(request) }
    }
  }
}
