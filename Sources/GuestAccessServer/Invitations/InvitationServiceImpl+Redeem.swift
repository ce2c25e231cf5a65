import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension InvitationServiceImpl {
  public func redeemInvitation(request: RedeemInvitationRequest, context: ServerContext) async throws -> RedeemInvitationResponse {
    let principal = context[PrincipalKey.self]
    let ticket = Self.ticket(fromTicketOrURL: request.ticket)
    guard !ticket.isEmpty, ticket.utf8.count <= 256 else { throw RPCError.invalidArgument(field: "ticket", "is required") }
    let now = env.clock.nowMillis()
    let limit = RedemptionSourceLimit(context: context, now: now, policy: Self.redemption)
    let audit = AuditRecorder(principal, context: context, now: now)
    let issuer = self.issuer
    // The source's failures are checked and counted in this transaction; a
    // refusal undoes everything else it wrote.
    let outcome = try await env.write { writer, events -> Result<RedeemInvitationResponse, RPCError> in
      guard let found = try issuer.invitation(ticket: ticket, reader: writer) else {
        return .failure(try limit.missed(writer, RPCError(
          code: .notFound, message: "unknown or no longer valid ticket", reason: .ticketNotFound)))
      }
      let published = events.count
      do {
        return .success(try writer.undoingOnError { () throws -> RedeemInvitationResponse in
          var invitation = found
          if invitation.status == .accepted, let home = principal?.homeUser,
            let guest = try writer.user(tenantID: invitation.tenantID, id: invitation.guestUserID), guest.deletedAt == 0,
            guest.identities.contains(where: { $0.signInType == .homeTenant && $0.issuerAssignedID == home.id }),
            let tenant = try writer.tenant(id: invitation.tenantID)
          {
            // Redeeming again with the same account returns the guest.
            return RedeemInvitationResponse(
              result: .accepted, guest: guest, tenantID: tenant.id, tenantDisplayName: tenant.displayName, redirectURL: invitation.redirectURL)
          }
          if let refusal = Self.redemption.redeemableRefusal(invitation.status, expiresAt: invitation.expiresAt, now: now) { throw refusal }
          guard let tenant = try writer.tenant(id: invitation.tenantID), tenant.state == .active else {
            throw RPCError.failedPrecondition("the inviting tenant is disabled", reason: .tenantDisabled)
          }
          let settings = try settings(writer, tenantID: tenant.id)
          try InvitePolicy.checkDomain(invitation.invitedEmail, settings: settings)
          guard var guest = try writer.user(tenantID: tenant.id, id: invitation.guestUserID), guest.deletedAt == 0 else {
            throw RPCError.failedPrecondition("the invited guest was removed", reason: .invitationRevoked)
          }
          if let principal {
            guard let home = principal.homeUser, !principal.isOperator else {
              throw RPCError.permissionDenied("the operator cannot redeem invitations", reason: .invitationEmailMismatch)
            }
            if let refusal = Self.redemption.homeCredentialRefusal(try signInFacts(invitation, reader: writer)) { throw refusal }
            try redeemAsHomeUser(home, invitation: &invitation, guest: &guest, tenant: tenant, writer: writer, events: &events, audit: audit, now: now)
            return RedeemInvitationResponse(
              result: .accepted, guest: guest, tenantID: tenant.id, tenantDisplayName: tenant.displayName, redirectURL: invitation.redirectURL)
          }
          return try sendPasscode(invitation: invitation, tenant: tenant, settings: settings, writer: writer, events: &events, audit: audit, now: now)
        })
      } catch let error as RPCError {
        events.removeSubrange(published...)
        return .failure(try limit.counted(writer, error))
      }
    }
    return try outcome.get()
  }

  public func completeRedemption(request: CompleteRedemptionRequest, context: ServerContext) async throws -> CompleteRedemptionResponse {
    let passcode = request.passcode.trimmingSpaces
    guard !passcode.isEmpty, passcode.count <= 32 else { throw RPCError.invalidArgument(field: "passcode", "is required") }
    guard !request.redemptionSessionID.isEmpty || !request.ticket.isEmpty else {
      throw RPCError.invalidArgument(field: "redemption_session_id", "a session id or the ticket is required")
    }
    let now = env.clock.nowMillis()
    let limit = RedemptionSourceLimit(context: context, now: now, policy: Self.redemption)
    let audit = AuditRecorder(context[PrincipalKey.self], context: context, now: now)
    let sessionID = request.redemptionSessionID
    let ticketText = Self.ticket(fromTicketOrURL: request.ticket)
    let secret = Secrets.newSecret(prefix: "gak_")
    let issuer = self.issuer
    let hasher = env.hasher
    // Wrong passcodes and the source's failures are counted in this
    // transaction, so the counts commit with the refusal.
    let outcome = try await env.write { writer, events -> Result<CompleteRedemptionResponse, RPCError> in
      var session: RedemptionSession?
      if !sessionID.isEmpty {
        session = try writer.redemptionSession(id: sessionID)
      } else if !ticketText.isEmpty, let invitation = try issuer.invitation(ticket: ticketText, reader: writer) {
        session = try writer.latestRedemptionSession(invitationID: invitation.id)
      }
      let sessionNotFound = RPCError(code: .notFound, message: "unknown redemption session", reason: .sessionNotFound)
      guard var session else { return .failure(try limit.missed(writer, sessionNotFound)) }
      let policy = Self.redemption
      let matches = PasscodePolicy.matches(passcode, session, hasher: hasher)
      let (outcome, changed) = policy.attempt(&session, passcodeMatches: matches, now: now)
      guard outcome == .accepted || outcome.isWrong else {
        // Completed, closed or expired: refused before the invitation is read.
        if changed { try writer.putRedemptionSession(session) }
        return .failure(outcome.refusal ?? sessionNotFound)
      }
      guard var invitation = try writer.invitation(tenantID: try tenantOf(session, writer), id: session.invitationID) else {
        return .failure(sessionNotFound)
      }
      if case .wrong(let remaining) = outcome, let refusal = outcome.refusal {
        try writer.putRedemptionSession(session)
        try audit.record(writer, &events, tenantID: invitation.tenantID, action: .invitationRedeemed, targetType: .invitation,
                         targetID: invitation.id, outcome: .failure, details: ["reason": "PASSCODE_INVALID", "attempts_remaining": String(remaining)])
        return .failure(try limit.counted(writer, refusal))
      }
      let published = events.count
      do {
        return .success(try writer.undoingOnError { () throws -> CompleteRedemptionResponse in
          if let refusal = policy.redeemableRefusal(invitation.status, expiresAt: invitation.expiresAt, now: now) { throw refusal }
          guard let tenant = try writer.tenant(id: invitation.tenantID), tenant.state == .active else {
            throw RPCError.failedPrecondition("the inviting tenant is disabled", reason: .tenantDisabled)
          }
          let settings = try settings(writer, tenantID: tenant.id)
          if let refusal = policy.passcodeRefusal(try signInFacts(invitation, reader: writer), invitedDomain: VerifiedMail.domain(of: invitation.invitedEmail)) {
            throw refusal
          }
          try InvitePolicy.checkDomain(invitation.invitedEmail, settings: settings)
          guard var guest = try writer.user(tenantID: tenant.id, id: invitation.guestUserID), guest.deletedAt == 0 else {
            throw RPCError.failedPrecondition("the invited guest was removed", reason: .invitationRevoked)
          }
          try writer.putRedemptionSession(session)
          let identity = Identity(signInType: .emailOtp, issuer: "mail", issuerAssignedID: invitation.invitedEmail)
          try accept(&guest, invitation: &invitation, identity: identity, writer: writer, events: &events, audit: audit, now: now)
          let expiresAt = CredentialLifetime(settings: settings).cap(guest.accessExpiresAt, issuedAt: now)
          let credential = Credential(
            id: Secrets.newID(prefix: "key_"), tenantID: tenant.id, principalType: .user, userID: guest.id,
            displayName: "email passcode redemption", secretHint: String(secret.prefix(8)), state: .active, createdAt: now,
            createdBy: guest.id, expiresAt: expiresAt)
          try writer.insertCredential(credential, secretHash: Secrets.hash(secret))
          try audit.record(writer, &events, tenantID: tenant.id, action: .credentialIssued, targetType: .credential, targetID: credential.id,
                           details: ["user_id": guest.id])
          return CompleteRedemptionResponse(
            guest: guest, credential: credential, secret: secret, tenantID: tenant.id, tenantDisplayName: tenant.displayName,
            redirectURL: invitation.redirectURL)
        })
      } catch let error as RPCError {
        events.removeSubrange(published...)
        return .failure(error)
      }
    }
    return try outcome.get()
  }

  private func tenantOf(_ session: RedemptionSession, _ writer: any DirectoryWriter) throws -> String {
    try writer.invitationTenant(id: session.invitationID) ?? ""
  }

  // MARK: Paths

  /// The home-tenant path: `home` (a user of another tenant here, signed in
  /// by its credential or its tenant's MEMBERS provider) becomes the guest's identity.
  func redeemAsHomeUser(
    _ home: User, invitation: inout Invitation, guest: inout User, tenant: Tenant, writer: any DirectoryWriter,
    events: inout [AuditEvent], audit: AuditRecorder, now: Int64
  ) throws {
    guard home.tenantID != tenant.id else {
      throw RPCError.failedPrecondition("you are a user of the inviting tenant", reason: .callerInInvitingTenant)
    }
    guard home.mail.lowercased() == invitation.invitedEmail.lowercased() else {
      throw RPCError.permissionDenied(
        "this invitation was sent to another address; sign in with the invited account", reason: .invitationEmailMismatch)
    }
    // The presented credential is a home identity for the address only if its tenant verified the
    // address's domain: guests (a passcode guest's key included), invited members and members with
    // an unverified mail never are, so each tenant's policy (email passcodes, home tenant) holds.
    guard try VerifiedMail.isVerified(home, reader: writer) else {
      throw RPCError.permissionDenied(
        "your account's address is not in a verified domain of its tenant, so it cannot redeem by address; "
          + "redeem without a credential (email passcode) or with the account of the organization that owns the domain",
        reason: .homeIdentityUnverified)
    }
    try InvitePolicy.checkCrossTenant(homeUser: home, resourceTenantID: tenant.id, reader: writer)
    let identity = Identity(signInType: .homeTenant, issuer: home.tenantID, issuerAssignedID: home.id)
    try accept(&guest, invitation: &invitation, identity: identity, writer: writer, events: &events, audit: audit, now: now)
  }

  private func sendPasscode(
    invitation: Invitation, tenant: Tenant, settings: TenantSettings, writer: any DirectoryWriter, events: inout [AuditEvent],
    audit: AuditRecorder, now: Int64
  ) throws -> RedeemInvitationResponse {
    let policy = Self.redemption
    if let refusal = policy.passcodeRefusal(try signInFacts(invitation, reader: writer), invitedDomain: VerifiedMail.domain(of: invitation.invitedEmail)) {
      throw refusal
    }
    let sent = try writer.countInWindow(key: "passcodes:\(invitation.id)", now: now, windowMillis: policy.limits.passcodeWindow.millis, add: 1)
    if let refusal = policy.passcodeQuotaRefusal(sent: sent.count, windowStart: sent.windowStart, now: now) { throw refusal }
    if var previous = try writer.latestRedemptionSession(invitationID: invitation.id), previous.state == .open {
      previous.state = .closed
      try writer.putRedemptionSession(previous)
    }
    let issued = PasscodePolicy.issue(prefix: "rds_", hasher: env.hasher, now: now)
    let passcode = issued.passcode
    let session = policy.newSession(id: issued.sessionID, invitationID: invitation.id, passcodeHash: issued.hash, now: now)
    let expiresAt = session.expiresAt
    try writer.putRedemptionSession(session)
    try issuer.queuePasscodeEmail(writer, invitation: invitation, passcode: passcode, tenant: tenant, expiresAt: expiresAt, now: now)
    try audit.record(writer, &events, tenantID: tenant.id, action: .passcodeSent, targetType: .invitation, targetID: invitation.id)
    return RedeemInvitationResponse(
      result: .passcodeSent, tenantID: tenant.id, tenantDisplayName: tenant.displayName, redirectURL: invitation.redirectURL,
      redemptionSessionID: session.id, passcodeExpiresAt: expiresAt, passcodeSentTo: PasscodePolicy.mask(invitation.invitedEmail),
      passcodeAttemptsAllowed: Int32(policy.limits.passcodeAttempts))
  }

  /// Accepts the guest: identity, state, grants, invitation, audit.
  func accept(
    _ guest: inout User, invitation: inout Invitation, identity: Identity, writer: any DirectoryWriter, events: inout [AuditEvent],
    audit: AuditRecorder, now: Int64
  ) throws {
    guest.externalUserState = .accepted
    guest.externalUserStateChangedAt = now
    guest.identities = [identity]
    guest.updatedAt = now
    try writer.updateUser(guest)
    for groupID in invitation.grants.groupIDs where try writer.group(tenantID: guest.tenantID, id: groupID) != nil {
      if try writer.addMember(groupID: groupID, userID: guest.id) {
        try audit.record(writer, &events, tenantID: guest.tenantID, action: .groupMemberAdded, targetType: .group, targetID: groupID,
                         details: ["user_id": guest.id, "via": "invitation"])
      }
    }
    for applicationID in invitation.grants.applicationIDs where try writer.application(tenantID: guest.tenantID, id: applicationID) != nil {
      if try writer.assign(applicationID: applicationID, userID: guest.id) {
        try audit.record(writer, &events, tenantID: guest.tenantID, action: .applicationAssigned, targetType: .application,
                         targetID: applicationID, details: ["user_id": guest.id, "via": "invitation"])
      }
    }
    invitation.status = .accepted
    invitation.redeemedAt = now
    // The ticket hash stays so that the same account redeeming again gets its guest back.
    try writer.updateInvitation(invitation, ticketHash: nil)
    try audit.record(writer, &events, tenantID: guest.tenantID, action: .invitationRedeemed, targetType: .invitation, targetID: invitation.id,
                     details: ["guest_user_id": guest.id, "sign_in_type": identity.signInType.protoName])
  }

  /// The ticket itself, from a ticket or a whole redeem URL (`...?ticket=...`).
  static func ticket(fromTicketOrURL text: String) -> String {
    let trimmed = text.trimmingSpaces
    guard let range = trimmed.range(of: "ticket=") else { return trimmed }
    return String(trimmed[range.upperBound...].prefix { $0 != "&" && $0 != "#" })
  }
}
