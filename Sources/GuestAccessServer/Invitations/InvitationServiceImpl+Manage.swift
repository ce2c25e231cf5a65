import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension InvitationServiceImpl {
  /// Admins see every invitation of the tenant; other users only those they sent.
  private func checkCanSee(_ invitation: Invitation, _ principal: Principal) throws(RPCError) {
    guard principal.isAdmin || invitation.invitedBy == principal.actorID else {
      throw RPCError.notFound(kind: "invitation", id: invitation.id)
    }
  }

  public func getInvitation(request: GetInvitationRequest, context: ServerContext) async throws -> Invitation {
    let (principal, tenantID) = try caller(context, tenantID: request.tenantID)
    let id = try Validation.id(request.invitationID, field: "invitation_id")
    let (invitation, outbox) = try await env.read { reader -> (Invitation?, OutboxMessage?) in
      (try reader.invitation(tenantID: tenantID, id: id), try reader.latestOutboxMessage(invitationID: id, kind: .invitation))
    }
    guard let invitation else { throw RPCError.notFound(kind: "invitation", id: id) }
    try checkCanSee(invitation, principal)
    return Self.view(invitation, outbox: outbox)
  }

  public func listInvitations(request: ListInvitationsRequest, context: ServerContext) async throws -> ListInvitationsResponse {
    let (principal, tenantID) = try caller(context, tenantID: request.tenantID)
    let size = try PageToken.size(request.pageSize)
    var filter = InvitationFilter()
    if request.status != .unspecified { filter.status = request.status }
    if !request.invitedEmail.isEmpty { filter.invitedEmail = request.invitedEmail.lowercased() }
    if !request.guestUserID.isEmpty { filter.guestUserID = request.guestUserID }
    if !request.invitedBy.isEmpty { filter.invitedBy = Access.resolveSelf(request.invitedBy, principal) }
    if !principal.isAdmin {
      guard filter.invitedBy == nil || filter.invitedBy == principal.actorID else {
        throw RPCError.permissionDenied("you may list only the invitations you sent")
      }
      filter.invitedBy = principal.actorID
    }
    let listing = "invitations:\(tenantID)"
    let cursor = try PageToken.cursor(request.pageToken, listing: listing)
    let finalFilter = filter
    let now = env.clock.nowMillis()
    let rows = try await env.read { reader -> [Invitation] in
      try reader.invitations(tenantID: tenantID, filter: finalFilter, after: cursor, limit: size + 1).map {
        var invitation = Self.view($0, outbox: try reader.latestOutboxMessage(invitationID: $0.id, kind: .invitation))
        if invitation.status == .pendingAcceptance && invitation.expiresAt <= now { invitation.status = .expired }
        return invitation
      }
    }
    let page = PageToken.page(rows, size: size, listing: listing) { $0.id }
    return ListInvitationsResponse(invitations: page.items, nextPageToken: page.next)
  }

  public func resendInvitation(request: ResendInvitationRequest, context: ServerContext) async throws -> Invitation {
    let (principal, tenantID) = try caller(context, tenantID: request.tenantID)
    let id = try Validation.id(request.invitationID, field: "invitation_id")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var invitation = try writer.invitation(tenantID: tenantID, id: id) else { throw RPCError.notFound(kind: "invitation", id: id) }
      try checkCanSee(invitation, principal)
      guard invitation.status == .pendingAcceptance || invitation.status == .expired else {
        throw RPCError.failedPrecondition(
          "only pending or expired invitations can be resent (this one is \(invitation.status.protoName))",
          reason: invitation.status == .accepted ? .invitationAlreadyRedeemed : .invitationRevoked)
      }
      guard let tenant = try writer.tenant(id: tenantID) else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      let settings = try settings(writer, tenantID: tenantID)
      try InvitePolicy.checkMayInvite(principal, settings: settings, userType: invitation.invitedUserType)
      try InvitePolicy.checkMaySendEmail(principal, settings: settings)
      try issuer.chargeRateLimit(writer, settings: settings, tenantID: tenantID, now: now)
      let lifetime = try InvitationIssuer.lifetime(requestedSeconds: request.expiresInSeconds, settings: settings)
      let ticket = issuer.newTicket()
      let url = issuer.redeemURL(ticket: ticket.ticket)
      invitation.status = .pendingAcceptance
      invitation.expiresAt = now + lifetime
      invitation.sendInvitationMessage = true
      invitation.emailDelivery = try issuer.queueInvitationEmail(
        writer, invitation: invitation, redeemURL: url, inviter: principal.actingUser, tenant: tenant, now: now)
      try writer.updateInvitation(invitation, ticketHash: ticket.hash)
      try audit.record(writer, &events, tenantID: tenantID, action: .invitationResent, targetType: .invitation, targetID: id)
      invitation.redeemURL = url
      return invitation
    }
  }

  public func revokeInvitation(request: RevokeInvitationRequest, context: ServerContext) async throws -> Invitation {
    let (principal, tenantID) = try caller(context, tenantID: request.tenantID)
    let id = try Validation.id(request.invitationID, field: "invitation_id")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var invitation = try writer.invitation(tenantID: tenantID, id: id) else { throw RPCError.notFound(kind: "invitation", id: id) }
      try checkCanSee(invitation, principal)
      if invitation.status == .revoked { return Self.view(invitation, outbox: nil) }
      guard invitation.status != .accepted else {
        throw RPCError.failedPrecondition(
          "the invitation was already redeemed; remove the guest instead", reason: .invitationAlreadyRedeemed)
      }
      invitation.status = .revoked
      invitation.revokedAt = now
      try writer.updateInvitation(invitation, ticketHash: [])
      try audit.record(writer, &events, tenantID: tenantID, action: .invitationRevoked, targetType: .invitation, targetID: id)
      if request.removeGuest, var guest = try writer.user(tenantID: tenantID, id: invitation.guestUserID),
        guest.deletedAt == 0, guest.externalUserState == .pendingAcceptance
      {
        guest.deletedAt = now
        guest.updatedAt = now
        try writer.updateUser(guest)
        try audit.record(writer, &events, tenantID: tenantID, action: .guestRemoved, targetType: .user, targetID: guest.id,
                         details: ["invitation_id": id])
      }
      return Self.view(invitation, outbox: try writer.latestOutboxMessage(invitationID: id, kind: .invitation))
    }
  }
}
