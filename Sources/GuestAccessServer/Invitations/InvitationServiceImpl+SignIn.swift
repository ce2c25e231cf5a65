import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// The later sign-in of an accepted email passcode guest: a passcode by
/// email under the redemption's rules (`RedemptionPolicy`, through `PasscodePolicy`), then a short-lived
/// credential. Every address that may not sign in gets the same answers as
/// an unknown one: a session that no passcode opens, and no email.
extension InvitationServiceImpl {
  /// How long a sign-in credential lives at most.
  static let signInCredentialMillis: Int64 = 3_600_000
  /// Sign-ins a source address may start per failure window (10 minutes).
  static let signInsPerSource = 20

  public func beginPasscodeSignIn(request: BeginPasscodeSignInRequest, context: ServerContext) async throws -> BeginPasscodeSignInResponse {
    let tenantID = request.tenantID.trimmingSpaces
    guard !tenantID.isEmpty, tenantID.utf8.count <= 128 else { throw RPCError.invalidArgument(field: "tenant_id", "is required") }
    let email = try Validation.email(request.email, field: "email")
    let requestedLanguage = try InvitationIssuer.languageTag(request.language, field: "language")
    let now = env.clock.nowMillis()
    let source = RedemptionSourceLimit(context: context, now: now, policy: Self.redemption, limit: Self.signInsPerSource, counter: "sign-in")
    let audit = AuditRecorder(nil, context: context, now: now)
    let issued = PasscodePolicy.issue(prefix: "sis_", hasher: env.hasher, now: now)
    let issuer = self.issuer
    return try await env.write { writer, events in
      try source.charge(writer)
      try PasscodePolicy.chargeSend(writer, subject: "sign-in-passcodes:\(tenantID):\(email)", now: now, what: "address")
      // Earlier sessions of the address stay open: the address is no secret, so
      // a sign-in started by someone else must not cut the guest's own.
      let eligible = try signInGuest(tenantID: tenantID, email: email, reader: writer, now: now)
      // For any other address the stored hash is of nothing anyone knows.
      let session = SignInSession(
        id: issued.sessionID, tenantID: tenantID, userID: eligible?.guest.id ?? "", email: email,
        passcodeHash: eligible == nil ? Secrets.randomBytes(32) : issued.hash, expiresAt: issued.expiresAt, attempts: 0,
        maxAttempts: PasscodePolicy.attempts, state: .open, createdAt: now)
      try writer.putSignInSession(session)
      if let (tenant, _, guest) = eligible {
        let language = requestedLanguage.isEmpty ? try invitationLanguage(of: guest, reader: writer) : requestedLanguage
        try issuer.queueSignInPasscodeEmail(
          writer, guest: guest, passcode: issued.passcode, tenant: tenant, language: language, expiresAt: issued.expiresAt, now: now)
        try audit.record(writer, &events, tenantID: tenant.id, action: .passcodeSent, targetType: .user, targetID: guest.id,
                         details: ["purpose": "sign_in", "sign_in_session_id": session.id])
      } else if try writer.tenant(id: tenantID) != nil {
        try audit.record(writer, &events, tenantID: tenantID, action: .guestSignedIn, targetType: .user, targetID: "",
                         outcome: .failure, details: ["reason": "NOT_ELIGIBLE", "email": email])
      }
      return BeginPasscodeSignInResponse(
        signInSessionID: session.id, passcodeExpiresAt: session.expiresAt, passcodeSentTo: PasscodePolicy.mask(email),
        passcodeAttemptsAllowed: Int32(PasscodePolicy.attempts))
    }
  }

  public func completePasscodeSignIn(
    request: CompletePasscodeSignInRequest, context: ServerContext
  ) async throws -> CompletePasscodeSignInResponse {
    let passcode = request.passcode.trimmingSpaces
    guard !passcode.isEmpty, passcode.count <= 32 else { throw RPCError.invalidArgument(field: "passcode", "is required") }
    let sessionID = request.signInSessionID.trimmingSpaces
    guard !sessionID.isEmpty, sessionID.utf8.count <= 128 else { throw RPCError.invalidArgument(field: "sign_in_session_id", "is required") }
    let now = env.clock.nowMillis()
    let failures = RedemptionSourceLimit(context: context, now: now, policy: Self.redemption)
    let audit = AuditRecorder(nil, context: context, now: now)
    let secret = Secrets.newSecret(prefix: "gak_")
    let hasher = env.hasher
    // Wrong passcodes and the source's failures commit with the refusal.
    let outcome = try await env.write { writer, events -> Result<CompletePasscodeSignInResponse, RPCError> in
      guard var session = try writer.signInSession(id: sessionID) else {
        return .failure(try failures.missed(writer, RPCError(code: .notFound, message: "unknown sign-in session", reason: .sessionNotFound)))
      }
      let used = RPCError.failedPrecondition("this passcode was already used; sign in again", reason: .passcodeAlreadyUsed)
      let matches = PasscodePolicy.matches(passcode, session, hasher: hasher)
      let (outcome, changed) = Self.redemption.attempt(&session, passcodeMatches: matches, now: now)
      switch outcome {
      case .accepted:
        break
      case .wrong(let remaining):
        try writer.putSignInSession(session)
        if !session.userID.isEmpty {
          try audit.record(writer, &events, tenantID: session.tenantID, action: .guestSignedIn, targetType: .user, targetID: session.userID,
                           outcome: .failure, details: ["reason": "PASSCODE_INVALID", "attempts_remaining": String(remaining)])
        }
        return .failure(try failures.counted(writer, outcome.refusal ?? used))
      case .alreadyCompleted:
        return .failure(used)
      case .spent, .expired:
        if changed { try writer.putSignInSession(session) }
        return .failure(outcome.refusal ?? used)
      }
      try writer.putSignInSession(session)  // completed by `attempt`
      // The guest may have been blocked, removed or expired since the passcode went out.
      guard let (tenant, settings, guest) = try signInGuest(tenantID: session.tenantID, email: session.email, reader: writer, now: now),
        guest.id == session.userID
      else {
        try audit.record(writer, &events, tenantID: session.tenantID, action: .guestSignedIn, targetType: .user, targetID: session.userID,
                         outcome: .failure, details: ["reason": "NOT_ELIGIBLE"])
        return .failure(RPCError.permissionDenied("this account may no longer sign in here", reason: .signInNotAllowed))
      }
      var expiresAt = now + Self.signInCredentialMillis
      if guest.accessExpiresAt != 0 { expiresAt = min(expiresAt, guest.accessExpiresAt) }
      let credential = Credential(
        id: Secrets.newID(prefix: "key_"), tenantID: tenant.id, principalType: .user, userID: guest.id,
        displayName: "email passcode sign-in", secretHint: String(secret.prefix(8)), state: .active, createdAt: now,
        createdBy: guest.id, expiresAt: CredentialLifetime(settings: settings).cap(expiresAt, issuedAt: now))
      try writer.insertCredential(credential, secretHash: Secrets.hash(secret))
      try audit.record(writer, &events, tenantID: tenant.id, action: .credentialIssued, targetType: .credential, targetID: credential.id,
                       details: ["user_id": guest.id, "purpose": "sign_in"])
      try audit.record(writer, &events, tenantID: tenant.id, action: .guestSignedIn, targetType: .user, targetID: guest.id,
                       details: ["credential_id": credential.id])
      let groups = try writer.groups(tenantID: tenant.id, memberUserID: guest.id, after: "", limit: 1000).map(\.displayName)
      let applications = try writer.applications(tenantID: tenant.id, assignedUserID: guest.id, after: "", limit: 1000).map(\.displayName)
      return .success(CompletePasscodeSignInResponse(
        guest: guest, credential: credential, secret: secret, tenantID: tenant.id, tenantDisplayName: tenant.displayName,
        groupNames: groups, applicationNames: applications))
    }
    return try outcome.get()
  }

  /// The guest of `tenantID` with address `email` that may sign in by
  /// passcode now, with its tenant and the tenant's settings: an ACCEPTED
  /// guest with an EMAIL_OTP identity that authentication would let act
  /// (tenant active, enabled, not expired; `user(tenantID:mail:)` skips
  /// removed users) and that the passcode and domain policies still allow.
  /// Nil for every other address.
  func signInGuest(
    tenantID: String, email: String, reader: any DirectoryReader, now: Int64
  ) throws -> (tenant: Tenant, settings: TenantSettings, guest: User)? {
    guard let tenant = try reader.tenant(id: tenantID),
      let guest = try reader.user(tenantID: tenantID, mail: email.lowercased()), guest.userType == .guest,
      guest.identities.contains(where: { $0.signInType == .emailOtp })
    else { return nil }
    let settings = try settings(reader, tenantID: tenantID)
    do {
      try AuthInterceptor.checkUsable(guest, tenantID: tenantID, now: now, reader: reader)
      let facts = RedemptionPolicy.SignInFacts(
        invitingTenantID: tenantID, domainOwnerTenantID: try reader.tenantID(forDomain: VerifiedMail.domain(of: email)),
        emailOtpMode: settings.emailOtpMode)
      if let refusal = Self.redemption.passcodeRefusal(facts, invitedDomain: VerifiedMail.domain(of: email)) { throw refusal }
      try InvitePolicy.checkDomain(email, settings: settings)
    } catch is RPCError {
      return nil
    }
    return (tenant, settings, guest)
  }

  /// The language of the guest's latest invitation ("" for none).
  private func invitationLanguage(of guest: User, reader: any DirectoryReader) throws -> String {
    var filter = InvitationFilter()
    filter.guestUserID = guest.id
    let latest = try reader.invitations(tenantID: guest.tenantID, filter: filter, after: "", limit: 1)
    return latest.first?.messageInfo.messageLanguage ?? ""
  }
}
