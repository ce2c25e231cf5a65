import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  /// The validated inputs of a ResetRedemption.
  struct ResetInput: Sendable {
    var guestID: String
    var newEmail: String?
    var redirectURL: String
    var messageInfo: InvitationMessageInfo
    var key: String
  }

  public func resetRedemption(request: ResetRedemptionRequest, context: ServerContext) async throws -> ResetRedemptionResponse {
    let (principal, _, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    try Access.requireAdmin(principal)
    let input = ResetInput(
      guestID: try Validation.id(request.userID, field: "user_id"),
      newEmail: request.newEmail.isEmpty ? nil : try Validation.email(request.newEmail, field: "new_email"),
      redirectURL: request.redirectURL.isEmpty ? "" : try Validation.url(request.redirectURL, field: "redirect_url"),
      messageInfo: try InvitationIssuer.messageInfo(request.messageInfo),
      key: try Validation.idempotencyKey(request.idempotencyKey))
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      try Idempotency.run(
        writer, key: input.key, scope: "\(principal.actorID)|ResetRedemption", request: request, now: now,
        redact: { var response = $0; response.invitation.redeemURL = ""; return response }
      ) {
        try reset(request, input: input, tenantID: tenantID, principal: principal, writer: writer, events: &events, audit: audit, now: now)
      }
    }
  }

  private func reset(
    _ request: ResetRedemptionRequest, input: ResetInput, tenantID: String, principal: Principal, writer: any DirectoryWriter,
    events: inout [AuditEvent], audit: AuditRecorder, now: Int64
  ) throws -> ResetRedemptionResponse {
    guard let tenant = try writer.tenant(id: tenantID) else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
    var guest = try Self.guest(writer, tenantID: tenantID, id: input.guestID)
    try Self.requireNotRemoved(guest)
    let settings = try settings(writer, tenantID: tenantID)
    try InvitePolicy.checkMayInvite(principal, settings: settings, userType: guest.userType)
    let email = input.newEmail ?? guest.mail.lowercased()
    if let newEmail = input.newEmail {
      try InvitePolicy.checkDomain(newEmail, settings: settings)
      if let other = try writer.user(tenantID: tenantID, mail: newEmail), other.id != guest.id {
        throw RPCError.alreadyExists("another user of the tenant (\(other.id)) has the mail \(newEmail)", reason: .userExists)
      }
    }
    // As at CreateInvitation: cross-tenant rules are evaluated at redemption.
    if request.sendInvitationMessage { try InvitePolicy.checkMaySendEmail(principal, settings: settings) }
    if !input.redirectURL.isEmpty {
      try InvitePolicy.checkRedirect(input.redirectURL, settings: settings, tenant: tenant, publicBaseURL: env.publicBaseURL)
    }
    try issuer.chargeRateLimit(writer, settings: settings, tenantID: tenantID, now: now)
    let lifetime = try InvitationIssuer.lifetime(requestedSeconds: request.expiresInSeconds, settings: settings)

    // The old tickets and the guest's own keys stop working; the identity is cleared.
    try GuestRemoval.revokePendingInvitations(of: guest, writer: writer, events: &events, audit: audit, now: now, reason: "redemption_reset")
    try GuestRemoval.revokeCredentials(of: guest, writer: writer, events: &events, audit: audit, now: now, reason: "redemption_reset")
    let previousMail = guest.mail
    guest.mail = email
    guest.identities = []
    guest.externalUserState = .pendingAcceptance
    guest.externalUserStateChangedAt = now
    guest.updatedAt = now
    try writer.updateUser(guest)

    // The new invitation keeps the guest's memberships, so it grants nothing itself.
    let ticket = issuer.newTicket()
    let url = issuer.redeemURL(ticket: ticket.ticket)
    var invitation = Invitation(
      id: Secrets.newID(prefix: "inv_"), tenantID: tenantID, invitedEmail: email, invitedDisplayName: guest.displayName,
      invitedUserType: guest.userType, redirectURL: input.redirectURL, sendInvitationMessage: request.sendInvitationMessage,
      messageInfo: input.messageInfo, invitedBy: principal.actorID, grants: InvitationGrants(), status: .pendingAcceptance,
      expiresAt: now + lifetime, guestUserID: guest.id, createdAt: now, idempotencyKey: input.key)
    if request.sendInvitationMessage {
      invitation.emailDelivery = try issuer.queueInvitationEmail(
        writer, invitation: invitation, redeemURL: url, inviter: principal.actingUser, tenant: tenant, now: now)
    } else {
      invitation.emailDelivery = InvitationEmailDelivery(status: .notRequested)
    }
    try writer.insertInvitation(invitation, ticketHash: ticket.hash)
    try audit.record(writer, &events, tenantID: tenantID, action: .invitationCreated, targetType: .invitation, targetID: invitation.id,
                     details: ["invited_email": email, "guest_user_id": guest.id, "via": "reset_redemption",
                               "email": request.sendInvitationMessage ? "queued" : "not_requested"])
    var details = ["invitation_id": invitation.id]
    if previousMail.lowercased() != email { details["mail_changed"] = "true" }
    try audit.record(writer, &events, tenantID: tenantID, action: .guestRedemptionReset, targetType: .user, targetID: guest.id, details: details)
    invitation.redeemURL = url
    return ResetRedemptionResponse(guest: guest, invitation: invitation)
  }
}
