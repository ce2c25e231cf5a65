import Crypto
import GuestAccessAPI
import GuestAccessBase64
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage
import GuestAccessTLS

/// Redemption through an identity provider in the invitee's browser:
/// authorization code with PKCE (S256), `state` and `nonce`
/// (docs/FEDERATION.md, "Redeeming through a provider").
extension InvitationServiceImpl {
  /// How long a federated sign-in's state works.
  static let federatedStateMillis: Int64 = 600_000
  /// The purpose the PKCE code verifier is sealed for.
  static let verifierPurpose = "oidc-code-verifier"
  /// Sign-ins at a provider an invitation may start per hour (each stores a state until the sweeper purges it).
  static let federatedStartsPerTicket = 20
  /// The path the provider sends the browser back to.
  public static let callbackPath = "/redeem/callback"

  public func beginFederatedRedemption(
    request: BeginFederatedRedemptionRequest, context: ServerContext
  ) async throws -> BeginFederatedRedemptionResponse {
    let ticket = Self.ticket(fromTicketOrURL: request.ticket)
    guard !ticket.isEmpty, ticket.utf8.count <= 256 else { throw RPCError.invalidArgument(field: "ticket", "is required") }
    let providers = try connector()
    let now = env.clock.nowMillis()
    let limit = RedemptionSourceLimit(context: context, now: now, policy: Self.redemption)
    let issuer = self.issuer
    let chosen = try await env.write { writer, _ -> Result<(Invitation, IdentityProvider, RedemptionSignIn), RPCError> in
      guard let invitation = try issuer.invitation(ticket: ticket, reader: writer) else {
        return .failure(try limit.missed(writer, RPCError(code: .notFound, message: "unknown or no longer valid ticket", reason: .ticketNotFound)))
      }
      do {
        try checkRedeemable(invitation, reader: writer, now: now)
        let window = Self.redemption.limits.passcodeWindow.millis
        let started = try writer.countInWindow(key: "federated-starts:\(invitation.id)", now: now, windowMillis: window, add: 1)
        guard started.count <= Self.federatedStartsPerTicket else {
          throw RPCError(
            code: .resourceExhausted, message: "too many sign-ins started for this invitation; try again later", reason: .redemptionRateLimited,
            retryDelayMillis: UInt64(max(1, started.windowStart + window - now)))
        }
        let facts = try signInFacts(invitation, reader: writer)
        guard let provider = Self.redemption.provider(facts) else {
          throw RPCError.failedPrecondition(
            "the inviting organization's redemption order does not offer sign-in through an identity provider for this address",
            reason: .redemptionStepNotOffered)
        }
        return .success((invitation, provider, Self.redemption.signIn(facts)))
      } catch let error as RPCError {
        return .failure(error)
      }
    }
    let (invitation, provider, selected) = try chosen.get()
    let endpoints = try await providers.endpoints(issuer: provider.oidc.issuer)
    let state = Base64.url.encode(Secrets.randomBytes(32))
    let nonce = Base64.url.encode(Secrets.randomBytes(32))
    let verifier = Base64.url.encode(Secrets.randomBytes(32))
    let challenge = Base64.url.encode(Array(SHA256.hash(data: Array(verifier.utf8))))
    let step: RedemptionStep = selected == .partnerProvider ? .partnerProvider : .homeTenant
    let signIn = FederatedSignIn(
      stateHash: env.hasher.federatedState(state), invitationID: invitation.id, tenantID: invitation.tenantID, providerID: provider.id,
      providerTenantID: provider.tenantID, step: Int64(step.rawValue), nonce: nonce,
      sealedVerifier: env.hasher.seal(verifier, purpose: Self.verifierPurpose), expiresAt: now + Self.federatedStateMillis, state: .open,
      createdAt: now)
    try await env.write { writer, _ in try writer.putFederatedSignIn(signIn) }
    let query: [(String, String)] = [
      ("response_type", "code"), ("client_id", provider.oidc.clientID), ("redirect_uri", callbackURL),
      ("scope", (provider.oidc.scopes.isEmpty ? IdentityProviderRules.defaultScopes : provider.oidc.scopes).joined(separator: " ")),
      ("state", state), ("nonce", nonce), ("code_challenge", challenge), ("code_challenge_method", "S256"),
      ("login_hint", invitation.invitedEmail),
    ]
    let separator = endpoints.authorizationEndpoint.contains("?") ? "&" : "?"
    let url = endpoints.authorizationEndpoint + separator
      + query.map { PercentEncoding.encode($0.0) + "=" + PercentEncoding.encode($0.1) }.joined(separator: "&")
    return BeginFederatedRedemptionResponse(
      authorizationURL: url, state: state, expiresAt: signIn.expiresAt, providerDisplayName: provider.displayName, step: step)
  }

  public func completeFederatedRedemption(
    request: CompleteFederatedRedemptionRequest, context: ServerContext
  ) async throws -> CompleteFederatedRedemptionResponse {
    let state = request.state.trimmingSpaces
    guard !state.isEmpty, state.utf8.count <= 256 else { throw RPCError.invalidArgument(field: "state", "is required") }
    guard request.code.utf8.count <= 4096, request.error.utf8.count <= 256, request.errorDescription.utf8.count <= 1024 else {
      throw RPCError.invalidArgument(field: "code", "is too long")
    }
    guard !request.code.isEmpty || !request.error.isEmpty else { throw RPCError.invalidArgument(field: "code", "a code or an error is required") }
    let providers = try connector()
    let now = env.clock.nowMillis()
    let limit = RedemptionSourceLimit(context: context, now: now, policy: Self.redemption)
    let audit = AuditRecorder(nil, context: context, now: now)
    let stateHash = env.hasher.federatedState(state)
    // The state is spent by this first write, whatever comes after.
    let spent = try await env.write { writer, _ -> Result<(FederatedSignIn, StoredIdentityProvider?), RPCError> in
      guard var signIn = try writer.federatedSignIn(stateHash: stateHash) else {
        return .failure(try limit.missed(writer, RPCError(
          code: .notFound, message: "unknown sign-in state; open the invitation link again", reason: .federatedStateInvalid)))
      }
      guard signIn.state == .open else {
        return .failure(try limit.counted(writer, RPCError.failedPrecondition(
          "this sign-in was already used; open the invitation link again", reason: .federatedStateUsed)))
      }
      signIn.state = .completed
      try writer.putFederatedSignIn(signIn)
      guard signIn.expiresAt > now else {
        return .failure(RPCError.failedPrecondition("this sign-in took too long; open the invitation link again", reason: .federatedStateExpired))
      }
      return .success((signIn, try writer.identityProvider(tenantID: signIn.providerTenantID, id: signIn.providerID)))
    }
    let (signIn, stored) = try spent.get()
    let step: RedemptionStep = signIn.step == Int64(RedemptionStep.partnerProvider.rawValue) ? .partnerProvider : .homeTenant
    let token: VerifiedToken
    do {
      token = try await providerToken(request, signIn: signIn, stored: stored, providers: providers)
    } catch let error as RPCError {
      throw try await env.write { writer, events in
        try audit.record(writer, &events, tenantID: signIn.tenantID, action: .invitationRedeemed, targetType: .invitation,
                         targetID: signIn.invitationID, outcome: .failure,
                         details: ["reason": error.reason?.rawValue ?? "", "sign_in_type": Self.signInType(step), "provider_id": signIn.providerID])
        return try limit.counted(writer, error)
      }
    }
    let outcome = try await env.write { writer, events -> Result<CompleteFederatedRedemptionResponse, RPCError> in
      guard var invitation = try writer.invitation(tenantID: signIn.tenantID, id: signIn.invitationID) else {
        return .failure(RPCError(code: .notFound, message: "unknown or no longer valid ticket", reason: .ticketNotFound))
      }
      let published = events.count
      do {
        return .success(try writer.undoingOnError { () throws -> CompleteFederatedRedemptionResponse in
          let (tenant, _) = try checkRedeemable(invitation, reader: writer, now: now)
          guard var guest = try writer.user(tenantID: tenant.id, id: invitation.guestUserID), guest.deletedAt == 0 else {
            throw RPCError.failedPrecondition("the invited guest was removed", reason: .invitationRevoked)
          }
          // The order may have changed since the sign-in began: the provider must still be the one it selects.
          guard Self.redemption.provider(try signInFacts(invitation, reader: writer))?.id == signIn.providerID, let stored else {
            throw RPCError.failedPrecondition(
              "the inviting organization no longer offers this identity provider for this address; open the invitation link again",
              reason: .redemptionStepNotOffered)
          }
          switch step {
          case .partnerProvider:
            try redeemThroughPartner(token, provider: stored.provider, invitation: &invitation, guest: &guest, writer: writer, events: &events,
                                     audit: audit, now: now)
          default:
            try redeemThroughMembersProvider(token, provider: stored.provider, invitation: &invitation, guest: &guest, tenant: tenant,
                                             writer: writer, events: &events, audit: audit, now: now)
          }
          return CompleteFederatedRedemptionResponse(
            guest: guest, tenantID: tenant.id, tenantDisplayName: tenant.displayName, redirectURL: invitation.redirectURL)
        })
      } catch let error as RPCError {
        events.removeSubrange(published...)
        try audit.record(writer, &events, tenantID: invitation.tenantID, action: .invitationRedeemed, targetType: .invitation,
                         targetID: invitation.id, outcome: .failure,
                         details: ["reason": error.reason?.rawValue ?? "", "sign_in_type": Self.signInType(step), "provider_id": signIn.providerID])
        return .failure(try limit.counted(writer, error))
      }
    }
    return try outcome.get()
  }

  // MARK: Parts

  /// The URL the provider sends the browser back to.
  var callbackURL: String {
    let base = env.publicBaseURL.hasSuffix("/") ? String(env.publicBaseURL.dropLast()) : env.publicBaseURL
    return base + Self.callbackPath
  }

  private func connector() throws(RPCError) -> ProviderConnector {
    guard let providers = env.providers else {
      throw RPCError(code: .unavailable, message: "sign-in through identity providers is not available on this server", reason: .providerUnavailable)
    }
    return providers
  }

  private static func signInType(_ step: RedemptionStep) -> String {
    step == .partnerProvider ? SignInType.federated.protoName : SignInType.homeTenant.protoName
  }

  /// The inviting tenant and its settings when `invitation` can be redeemed now, else the refusal.
  private func checkRedeemable(_ invitation: Invitation, reader: any DirectoryReader, now: Int64) throws -> (Tenant, TenantSettings) {
    if let refusal = Self.redemption.redeemableRefusal(invitation.status, expiresAt: invitation.expiresAt, now: now) { throw refusal }
    guard let tenant = try reader.tenant(id: invitation.tenantID), tenant.state == .active else {
      throw RPCError.failedPrecondition("the inviting tenant is disabled", reason: .tenantDisabled)
    }
    let settings = try settings(reader, tenantID: tenant.id)
    try InvitePolicy.checkDomain(invitation.invitedEmail, settings: settings)
    return (tenant, settings)
  }

  /// The provider's error, or the code exchanged and its ID token validated (nonce = the sign-in's).
  private func providerToken(
    _ request: CompleteFederatedRedemptionRequest, signIn: FederatedSignIn, stored: StoredIdentityProvider?, providers: ProviderConnector
  ) async throws -> VerifiedToken {
    guard request.error.isEmpty else {
      let error = ProviderConnector.printable(request.error)
      let why = error == "access_denied" ? "the sign-in at the identity provider was cancelled or refused" : "the identity provider sent an error"
      throw RPCError(code: .unauthenticated, message: "\(why) (\(error))", reason: .providerSignInFailed)
    }
    guard let stored else {
      throw RPCError.failedPrecondition("the identity provider was removed; open the invitation link again", reason: .redemptionStepNotOffered)
    }
    let oidc = stored.provider.oidc
    let verifier = env.hasher.unseal(signIn.sealedVerifier, purpose: Self.verifierPurpose) ?? ""
    let secret = env.hasher.unseal(stored.sealedSecret, purpose: IdentityProviderRules.secretPurpose) ?? ""
    let endpoints = try await providers.endpoints(issuer: oidc.issuer)
    let idToken = try await providers.exchange(
      code: request.code, verifier: verifier, redirectURI: callbackURL, clientID: oidc.clientID, clientSecret: secret, endpoints: endpoints)
    let validator = IDTokenValidator(provider: oidc, withAccessTokenAudiences: false)
    do {
      let parsed = try IDTokenValidator.parse(idToken)
      try validator.checkAlgorithm(parsed.algorithm)
      let key = try await providers.keys.key(issuer: oidc.issuer, for: parsed)
      return try validator.validate(parsed, key: key, nowMillis: env.clock.nowMillis(), nonce: signIn.nonce)
    } catch let refusal as TokenRefusal {
      throw refusal.rpcError
    }
  }

  /// PARTNER: the token's address must be the invited one, verified by the
  /// provider (`email_verified: true`; no claim at all is accepted from the
  /// PARTNER provider of the invited domain, which vouches for it); the guest
  /// gets the FEDERATED identity and the link `(issuer, sub)`.
  private func redeemThroughPartner(
    _ token: VerifiedToken, provider: IdentityProvider, invitation: inout Invitation, guest: inout User, writer: any DirectoryWriter,
    events: inout [AuditEvent], audit: AuditRecorder, now: Int64
  ) throws {
    try Self.checkAddress(token, invitedEmail: invitation.invitedEmail,
                          vouchedFor: provider.use == .partner && provider.domains.contains(VerifiedMail.domain(of: invitation.invitedEmail)))
    if let other = try writer.federatedLinks(issuer: token.issuer, subject: token.subject).first(where: { $0.tenantID == guest.tenantID }),
      other.userID != guest.id
    {
      throw RPCError.alreadyExists("this account at the identity provider already belongs to another user of the organization", reason: .guestExists)
    }
    let identity = Identity(signInType: .federated, issuer: token.issuer, issuerAssignedID: token.subject)
    try accept(&guest, invitation: &invitation, identity: identity, writer: writer, events: &events, audit: audit, now: now)
    try writer.linkFederatedIdentity(issuer: token.issuer, subject: token.subject, FederatedLink(tenantID: guest.tenantID, userID: guest.id))
  }

  /// MEMBERS of the invitee's home tenant: the person is the home user linked
  /// to `(issuer, sub)`, or on a first sign-in the member whose mail is the
  /// token's verified address in one of the home tenant's verified domains
  /// (then linked); then the home-tenant path as with its credential.
  private func redeemThroughMembersProvider(
    _ token: VerifiedToken, provider: IdentityProvider, invitation: inout Invitation, guest: inout User, tenant: Tenant,
    writer: any DirectoryWriter, events: inout [AuditEvent], audit: AuditRecorder, now: Int64
  ) throws {
    let homeTenantID = provider.tenantID
    let unknown = RPCError.permissionDenied(
      "no account of your organization here is linked to this sign-in, and its address is not one your organization verified",
      reason: .homeIdentityUnverified)
    let home: User
    var firstSignIn = false
    if let link = try writer.federatedLinks(issuer: token.issuer, subject: token.subject).first(where: { $0.tenantID == homeTenantID }) {
      guard let user = try writer.user(tenantID: homeTenantID, id: link.userID), user.deletedAt == 0 else { throw unknown }
      home = user
    } else {
      try Self.checkAddress(token, invitedEmail: invitation.invitedEmail, vouchedFor: false)
      guard let user = try writer.user(tenantID: homeTenantID, mail: token.email), user.userType == .member,
        try VerifiedMail.isVerified(user, reader: writer)
      else { throw unknown }
      home = user
      firstSignIn = true
    }
    try AuthInterceptor.checkUsable(home, tenantID: homeTenantID, now: now, reader: writer)
    try redeemAsHomeUser(home, invitation: &invitation, guest: &guest, tenant: tenant, writer: writer, events: &events, audit: audit, now: now)
    if firstSignIn {
      try writer.linkFederatedIdentity(issuer: token.issuer, subject: token.subject, FederatedLink(tenantID: homeTenantID, userID: home.id))
    }
  }

  /// The token's address is the invited one (INVITATION_EMAIL_MISMATCH) and
  /// verified (EMAIL_NOT_VERIFIED): `email_verified: true`, or, when the
  /// provider vouches for the invited domain, no such claim at all.
  static func checkAddress(_ token: VerifiedToken, invitedEmail: String, vouchedFor: Bool) throws(RPCError) {
    guard !token.email.isEmpty, token.email == invitedEmail.lowercased() else {
      throw RPCError.permissionDenied(
        "you signed in at the identity provider as \(token.email.isEmpty ? "an account without an email address" : token.email), "
          + "but the invitation was sent to another address; sign in with the invited account",
        reason: .invitationEmailMismatch)
    }
    guard token.emailVerifiedClaim == true || (vouchedFor && token.emailVerifiedClaim == nil) else {
      throw TokenRefusal.emailNotVerified.rpcError
    }
  }
}
