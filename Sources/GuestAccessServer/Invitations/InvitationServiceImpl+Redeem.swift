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
    let source = Self.source(context)
    try await checkSourceNotLocked(source, now: now)
    let audit = AuditRecorder(principal, context: context, now: now)
    let hash = Secrets.hash(ticket)
    do {
      return try await env.write { writer, events in
        guard let found = try writer.invitation(ticketHash: hash), Secrets.constantTimeEqual(found.storedHash, hash) else {
          throw RPCError(code: .notFound, message: "unknown or no longer valid ticket",
                         errorInfo: ErrorInfo(reason: "TICKET_NOT_FOUND", domain: "guestaccess.v1"))
        }
        var invitation = found.invitation
        if invitation.status == .accepted, let home = principal?.homeUser,
          let guest = try writer.user(tenantID: invitation.tenantID, id: invitation.guestUserID), guest.deletedAt == 0,
          guest.identities.contains(where: { $0.signInType == .homeTenant && $0.issuerAssignedID == home.id }),
          let tenant = try writer.tenant(id: invitation.tenantID)
        {
          // Redeeming again with the same account returns the guest.
          return RedeemInvitationResponse(
            result: .accepted, guest: guest, tenantID: tenant.id, tenantDisplayName: tenant.displayName, redirectURL: invitation.redirectURL)
        }
        try Self.checkRedeemable(&invitation, writer: writer, now: now)
        guard let tenant = try writer.tenant(id: invitation.tenantID), tenant.state == .active else {
          throw Access.precondition("the inviting tenant is disabled", reason: "TENANT_DISABLED")
        }
        let settings = try settings(writer, tenantID: tenant.id)
        try InvitePolicy.checkDomain(invitation.invitedEmail, settings: settings)
        guard var guest = try writer.user(tenantID: tenant.id, id: invitation.guestUserID), guest.deletedAt == 0 else {
          throw Access.precondition("the invited guest was removed", reason: "INVITATION_REVOKED")
        }
        if let principal {
          return try redeemWithHomeCredential(
            principal, invitation: &invitation, guest: &guest, tenant: tenant, writer: writer, events: &events, audit: audit, now: now)
        }
        return try sendPasscode(invitation: invitation, tenant: tenant, settings: settings, writer: writer, events: &events, audit: audit, now: now)
      }
    } catch let error as RPCError {
      if error.code == .notFound || error.reason == "INVITATION_EMAIL_MISMATCH" {
        try await recordFailure(source: source, now: now)
      }
      throw error
    }
  }

  public func completeRedemption(request: CompleteRedemptionRequest, context: ServerContext) async throws -> CompleteRedemptionResponse {
    let passcode = request.passcode.trimmingSpaces
    guard !passcode.isEmpty, passcode.count <= 32 else { throw RPCError.invalidArgument(field: "passcode", "is required") }
    guard !request.redemptionSessionID.isEmpty || !request.ticket.isEmpty else {
      throw RPCError.invalidArgument(field: "redemption_session_id", "a session id or the ticket is required")
    }
    let now = env.clock.nowMillis()
    let source = Self.source(context)
    try await checkSourceNotLocked(source, now: now)
    let audit = AuditRecorder(context[PrincipalKey.self], context: context, now: now)
    let sessionID = request.redemptionSessionID
    let ticketText = Self.ticket(fromTicketOrURL: request.ticket)
    let ticketHash = ticketText.isEmpty ? nil : Secrets.hash(ticketText)
    let secret = Secrets.newSecret(prefix: "gak_")
    // A wrong passcode is counted in its own transaction so the count survives the refusal.
    let outcome = try await env.write { writer, events -> Result<CompleteRedemptionResponse, RPCError> in
      var session: RedemptionSession?
      if !sessionID.isEmpty {
        session = try writer.redemptionSession(id: sessionID)
      } else if let ticketHash, let found = try writer.invitation(ticketHash: ticketHash), Secrets.constantTimeEqual(found.storedHash, ticketHash) {
        session = try writer.latestRedemptionSession(invitationID: found.invitation.id)
      }
      guard var session else {
        return .failure(RPCError(code: .notFound, message: "unknown redemption session",
                                 errorInfo: ErrorInfo(reason: "SESSION_NOT_FOUND", domain: "guestaccess.v1")))
      }
      guard session.state == .open else {
        return .failure(Access.precondition(
          session.state == .completed ? "this session was already completed" : "this passcode can no longer be used; ask for a new one",
          reason: session.state == .completed ? "INVITATION_ALREADY_REDEEMED" : "PASSCODE_ATTEMPTS_EXCEEDED"))
      }
      guard session.expiresAt > now else {
        session.state = .closed
        try writer.putRedemptionSession(session)
        return .failure(Access.precondition("the passcode expired; ask for a new one", reason: "PASSCODE_EXPIRED"))
      }
      guard var invitation = try writer.invitation(tenantID: try tenantOf(session, writer), id: session.invitationID) else {
        return .failure(RPCError(code: .notFound, message: "unknown redemption session"))
      }
      guard Secrets.constantTimeEqual(Secrets.hash(passcode), session.passcodeHash) else {
        session.attempts += 1
        let remaining = max(0, session.maxAttempts - session.attempts)
        if remaining == 0 { session.state = .closed }
        try writer.putRedemptionSession(session)
        try audit.record(writer, &events, tenantID: invitation.tenantID, action: .invitationRedeemed, targetType: .invitation,
                         targetID: invitation.id, outcome: .failure, details: ["reason": "PASSCODE_INVALID", "attempts_remaining": String(remaining)])
        return .failure(RPCError(
          code: .permissionDenied, message: "wrong passcode; \(remaining) attempts remaining",
          errorInfo: ErrorInfo(reason: "PASSCODE_INVALID", domain: "guestaccess.v1",
                               metadata: [MetadataEntry(key: "attempts_remaining", value: String(remaining))])))
      }
      do {
        try Self.checkRedeemable(&invitation, writer: writer, now: now)
        guard let tenant = try writer.tenant(id: invitation.tenantID), tenant.state == .active else {
          throw Access.precondition("the inviting tenant is disabled", reason: "TENANT_DISABLED")
        }
        let settings = try settings(writer, tenantID: tenant.id)
        guard settings.emailOtpMode != .disabled else {
          throw Access.precondition("the tenant does not allow email passcode redemption", reason: "EMAIL_OTP_DISABLED")
        }
        try InvitePolicy.checkDomain(invitation.invitedEmail, settings: settings)
        guard var guest = try writer.user(tenantID: tenant.id, id: invitation.guestUserID), guest.deletedAt == 0 else {
          throw Access.precondition("the invited guest was removed", reason: "INVITATION_REVOKED")
        }
        session.state = .completed
        try writer.putRedemptionSession(session)
        let identity = Identity(signInType: .emailOtp, issuer: "mail", issuerAssignedID: invitation.invitedEmail)
        try accept(&guest, invitation: &invitation, identity: identity, writer: writer, events: &events, audit: audit, now: now)
        var expiresAt = Int64(0)
        if guest.accessExpiresAt != 0 { expiresAt = guest.accessExpiresAt }
        let credential = Credential(
          id: Secrets.newID(prefix: "key_"), tenantID: tenant.id, principalType: .user, userID: guest.id,
          displayName: "email passcode redemption", secretHint: String(secret.prefix(8)), state: .active, createdAt: now,
          createdBy: guest.id, expiresAt: expiresAt)
        try writer.insertCredential(credential, secretHash: Secrets.hash(secret))
        try audit.record(writer, &events, tenantID: tenant.id, action: .credentialIssued, targetType: .credential, targetID: credential.id,
                         details: ["user_id": guest.id])
        return .success(CompleteRedemptionResponse(
          guest: guest, credential: credential, secret: secret, tenantID: tenant.id, tenantDisplayName: tenant.displayName,
          redirectURL: invitation.redirectURL))
      } catch let error as RPCError {
        return .failure(error)
      }
    }
    switch outcome {
    case .success(let response):
      return response
    case .failure(let error):
      if error.code == .notFound || error.reason == "PASSCODE_INVALID" { try await recordFailure(source: source, now: now) }
      throw error
    }
  }

  private func tenantOf(_ session: RedemptionSession, _ writer: any DirectoryWriter) throws -> String {
    try writer.invitationTenant(id: session.invitationID) ?? ""
  }

  // MARK: Paths

  private func redeemWithHomeCredential(
    _ principal: Principal, invitation: inout Invitation, guest: inout User, tenant: Tenant, writer: any DirectoryWriter,
    events: inout [AuditEvent], audit: AuditRecorder, now: Int64
  ) throws -> RedeemInvitationResponse {
    guard let home = principal.homeUser, !principal.isOperator else {
      throw Access.denied("the operator cannot redeem invitations", reason: "INVITATION_EMAIL_MISMATCH")
    }
    guard home.tenantID != tenant.id else {
      throw Access.precondition("you are a user of the inviting tenant", reason: "CALLER_IN_INVITING_TENANT")
    }
    guard home.mail.lowercased() == invitation.invitedEmail.lowercased() else {
      throw Access.denied("this invitation was sent to another address; sign in with the invited account", reason: "INVITATION_EMAIL_MISMATCH")
    }
    try InvitePolicy.checkCrossTenant(homeUser: home, resourceTenantID: tenant.id, reader: writer)
    let identity = Identity(signInType: .homeTenant, issuer: home.tenantID, issuerAssignedID: home.id)
    try accept(&guest, invitation: &invitation, identity: identity, writer: writer, events: &events, audit: audit, now: now)
    return RedeemInvitationResponse(
      result: .accepted, guest: guest, tenantID: tenant.id, tenantDisplayName: tenant.displayName, redirectURL: invitation.redirectURL)
  }

  private func sendPasscode(
    invitation: Invitation, tenant: Tenant, settings: TenantSettings, writer: any DirectoryWriter, events: inout [AuditEvent],
    audit: AuditRecorder, now: Int64
  ) throws -> RedeemInvitationResponse {
    guard settings.emailOtpMode != .disabled else {
      throw Access.precondition("the tenant does not allow email passcode redemption; sign in with your organization's account",
                                reason: "EMAIL_OTP_DISABLED")
    }
    let domain = String(invitation.invitedEmail.split(separator: "@").last ?? "")
    if let owner = try writer.tenantID(forDomain: domain), owner != tenant.id {
      throw Access.precondition("\(domain) is managed by an organization here; redeem with its credential", reason: "HOME_TENANT_REQUIRED")
    }
    let sent = try writer.countInWindow(key: "passcodes:\(invitation.id)", now: now, windowMillis: 3_600_000, add: 1)
    guard sent.count <= Self.passcodesPerTicket else {
      throw RPCError(code: .resourceExhausted, message: "too many passcodes for this invitation; try again later",
                     errorInfo: ErrorInfo(reason: "REDEMPTION_RATE_LIMITED", domain: "guestaccess.v1"),
                     retryDelayMillis: UInt64(max(1, sent.windowStart + 3_600_000 - now)))
    }
    if var previous = try writer.latestRedemptionSession(invitationID: invitation.id), previous.state == .open {
      previous.state = .closed
      try writer.putRedemptionSession(previous)
    }
    let passcode = Self.newPasscode()
    let expiresAt = now + Self.passcodeLifetimeMillis
    let session = RedemptionSession(
      id: Secrets.newID(prefix: "rds_"), invitationID: invitation.id, passcodeHash: Secrets.hash(passcode), expiresAt: expiresAt,
      attempts: 0, maxAttempts: Self.passcodeAttempts, state: .open, createdAt: now)
    try writer.putRedemptionSession(session)
    try issuer.queuePasscodeEmail(writer, invitation: invitation, passcode: passcode, tenant: tenant, expiresAt: expiresAt, now: now)
    try audit.record(writer, &events, tenantID: tenant.id, action: .passcodeSent, targetType: .invitation, targetID: invitation.id)
    return RedeemInvitationResponse(
      result: .passcodeSent, tenantID: tenant.id, tenantDisplayName: tenant.displayName, redirectURL: invitation.redirectURL,
      redemptionSessionID: session.id, passcodeExpiresAt: expiresAt, passcodeSentTo: Self.mask(invitation.invitedEmail),
      passcodeAttemptsAllowed: Int32(Self.passcodeAttempts))
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

  static func checkRedeemable(_ invitation: inout Invitation, writer: any DirectoryWriter, now: Int64) throws {
    switch invitation.status {
    case .revoked: throw Access.precondition("the invitation was revoked", reason: "INVITATION_REVOKED")
    case .accepted: throw Access.precondition("the invitation was already redeemed", reason: "INVITATION_ALREADY_REDEEMED")
    case .expired: throw Access.precondition("the invitation expired; ask for a new one", reason: "INVITATION_EXPIRED")
    default: break
    }
    if invitation.expiresAt <= now {
      throw Access.precondition("the invitation expired; ask for a new one", reason: "INVITATION_EXPIRED")
    }
  }

  // MARK: Brute-force limits

  static func source(_ context: ServerContext) -> String {
    let peer = context.peer
    guard let colon = peer.lastIndex(of: ":") else { return peer }
    return String(peer[..<colon])
  }

  func checkSourceNotLocked(_ source: String, now: Int64) async throws {
    let count = try await env.read { reader in try reader.failureCount(key: "redeem-fail:\(source)", now: now, windowMillis: 600_000) }
    if count >= Self.failuresPerSource {
      throw RPCError(code: .resourceExhausted, message: "too many failed redemption attempts from this source; try again later",
                     errorInfo: ErrorInfo(reason: "REDEMPTION_RATE_LIMITED", domain: "guestaccess.v1"), retryDelayMillis: 600_000)
    }
  }

  func recordFailure(source: String, now: Int64) async throws {
    _ = try await env.store.write { writer in
      try writer.countInWindow(key: "redeem-fail:\(source)", now: now, windowMillis: 600_000, add: 1)
    }
  }

  static func newPasscode() -> String {
    var generator = SystemRandomNumberGenerator()
    return zeroPadded8(UInt32.random(in: 0..<100_000_000, using: &generator))
  }

  static func mask(_ email: String) -> String {
    let parts = email.split(separator: "@")
    guard parts.count == 2, let first = parts[0].first else { return "***" }
    return "\(first)***@\(parts[1])"
  }
}

/// An 8-digit, zero-padded decimal.
func zeroPadded8(_ value: UInt32) -> String {
  let digits = "\(value)"
  return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
