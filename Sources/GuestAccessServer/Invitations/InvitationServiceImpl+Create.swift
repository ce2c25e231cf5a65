import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension InvitationServiceImpl {
  public func createInvitation(request: CreateInvitationRequest, context: ServerContext) async throws -> CreateInvitationResponse {
    let (principal, tenantID) = try caller(context, tenantID: request.tenantID)
    let prepared = try prepare(request)
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      try create(request, prepared: prepared, tenantID: tenantID, principal: principal, writer: writer, events: &events, audit: audit, now: now)
    }
  }

  public func createInvitations(request: CreateInvitationsRequest, context: ServerContext) async throws -> CreateInvitationsResponse {
    let (principal, tenantID) = try caller(context, tenantID: request.tenantID)
    guard !request.invitations.isEmpty else { throw RPCError.invalidArgument(field: "invitations", "must not be empty") }
    guard request.invitations.count <= 500 else { throw RPCError.invalidArgument(field: "invitations", "at most 500 per call") }
    for (index, item) in request.invitations.enumerated() where !item.tenantID.isEmpty && item.tenantID != tenantID {
      throw RPCError.invalidArgument(field: "invitations[\(index)].tenant_id", "must be empty or the call's tenant")
    }
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    // Items run concurrently, each in its own transaction: group commit makes one fsync serve many.
    let results = await withTaskGroup(of: InvitationBatchResult.self) { group in
      for (index, item) in request.invitations.enumerated() {
        group.addTask {
          var result = InvitationBatchResult(index: Int32(index))
          do {
            let prepared = try prepare(item)
            let response = try await env.write { writer, events in
              try create(item, prepared: prepared, tenantID: tenantID, principal: principal, writer: writer, events: &events, audit: audit, now: now)
            }
            result.invitation = response.invitation
            result.alreadyPending = response.alreadyPending
          } catch let error as RPCError {
            result.code = error.code.rawValue
            result.message = error.message
            result.reason = error.reason?.rawValue ?? ""
            result.fieldViolations = error.fieldViolations
          } catch {
            result.code = StatusCode.internalError.rawValue
            result.message = "internal error"
          }
          return result
        }
      }
      var all: [InvitationBatchResult] = []
      for await result in group { all.append(result) }
      return all.sorted { $0.index < $1.index }
    }
    let failed = results.filter { $0.code != 0 }.count
    return CreateInvitationsResponse(results: results, succeededCount: Int32(results.count - failed), failedCount: Int32(failed))
  }

  struct Prepared: Sendable {
    var email: String
    var displayName: String
    var userType: UserType
    var redirectURL: String
    var messageInfo: InvitationMessageInfo
    var key: String
    /// Made before the transaction, to keep hashing and randomness off the writer thread.
    var guestID = Secrets.newID(prefix: "usr_")
    var invitationID = Secrets.newID(prefix: "inv_")
    var ticket: String = ""
    var ticketHash: [UInt8] = []
  }

  func prepare(_ request: CreateInvitationRequest) throws(RPCError) -> Prepared {
    let email = try Validation.email(request.invitedEmail, field: "invited_email")
    let name = request.invitedDisplayName.isEmpty ? "" : try Validation.displayName(request.invitedDisplayName, field: "invited_display_name")
    let userType: UserType
    switch request.invitedUserType {
    case .unspecified, .guest: userType = .guest
    case .member: userType = .member
    default: throw RPCError.invalidArgument(field: "invited_user_type", "must be GUEST or MEMBER")
    }
    let redirect = request.redirectURL.isEmpty ? "" : try Validation.url(request.redirectURL, field: "redirect_url")
    guard request.grants.groupIDs.count + request.grants.applicationIDs.count <= 100 else {
      throw RPCError.invalidArgument(field: "grants", "at most 100 groups and applications")
    }
    guard request.sponsors.count <= 5 else { throw RPCError.invalidArgument(field: "sponsors", "at most 5 sponsors") }
    guard request.accessExpiresAt >= 0 else { throw RPCError.invalidArgument(field: "access_expires_at", "must not be negative") }
    var prepared = Prepared(
      email: email, displayName: name, userType: userType, redirectURL: redirect,
      messageInfo: try InvitationIssuer.messageInfo(request.messageInfo), key: try Validation.idempotencyKey(request.idempotencyKey))
    let ticket = issuer.newTicket()
    prepared.ticket = ticket.ticket
    prepared.ticketHash = ticket.hash
    return prepared
  }

  func create(
    _ request: CreateInvitationRequest, prepared: Prepared, tenantID: String, principal: Principal, writer: any DirectoryWriter,
    events: inout [AuditEvent], audit: AuditRecorder, now: Int64
  ) throws -> CreateInvitationResponse {
    try Idempotency.run(
      writer, key: prepared.key, scope: "\(principal.actorID)|CreateInvitation", request: request, now: now,
      redact: { var response = $0; response.invitation.redeemURL = ""; return response }
    ) {
      try createOnce(request, prepared: prepared, tenantID: tenantID, principal: principal, writer: writer, events: &events, audit: audit, now: now)
    }
  }

  private func createOnce(
    _ request: CreateInvitationRequest, prepared: Prepared, tenantID: String, principal: Principal, writer: any DirectoryWriter,
    events: inout [AuditEvent], audit: AuditRecorder, now: Int64
  ) throws -> CreateInvitationResponse {
    guard let tenant = try writer.tenant(id: tenantID) else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
    let settings = try settings(writer, tenantID: tenantID)
    try InvitePolicy.checkMayInvite(principal, settings: settings, userType: prepared.userType)
    try InvitePolicy.checkDomain(prepared.email, settings: settings)
    // Cross-tenant rules are evaluated at redemption, where the redeemer's tenant is known
    // and the answer tells the inviter nothing about addresses of other tenants.
    try InvitePolicy.checkGrants(request.grants, principal: principal)
    if request.sendInvitationMessage { try InvitePolicy.checkMaySendEmail(principal, settings: settings) }
    if !prepared.redirectURL.isEmpty {
      try InvitePolicy.checkRedirect(prepared.redirectURL, settings: settings, tenant: tenant, publicBaseURL: env.publicBaseURL)
    }
    for groupID in request.grants.groupIDs where try writer.group(tenantID: tenantID, id: groupID) == nil {
      throw RPCError.notFound(kind: "group", id: groupID)
    }
    for applicationID in request.grants.applicationIDs where try writer.application(tenantID: tenantID, id: applicationID) == nil {
      throw RPCError.notFound(kind: "application", id: applicationID)
    }
    let inviter = principal.actingUser
    var sponsors = request.sponsors.isEmpty ? [inviter?.id ?? ""].filter { !$0.isEmpty } : request.sponsors
    sponsors = Array(Set(sponsors)).sorted()
    for sponsor in sponsors {
      guard let user = try writer.user(tenantID: tenantID, id: sponsor), user.deletedAt == 0 else { throw RPCError.notFound(
        kind: "sponsor", id: sponsor) }
    }
    var guest: User
    if let existing = try writer.user(tenantID: tenantID, mail: prepared.email) {
      guard existing.userType == .guest else {
        throw RPCError.alreadyExists("\(prepared.email) belongs to a member of the tenant", reason: .memberExists)
      }
      guard existing.externalUserState == .pendingAcceptance else {
        throw RPCError.alreadyExists("\(prepared.email) is already a guest of the tenant", reason: .guestExists)
      }
      var filter = InvitationFilter()
      filter.guestUserID = existing.id
      filter.status = .pendingAcceptance
      if let pending = try writer.invitations(tenantID: tenantID, filter: filter, after: "", limit: 1).first, pending.expiresAt > now {
        let outbox = try writer.latestOutboxMessage(invitationID: pending.id, kind: .invitation)
        return CreateInvitationResponse(invitation: Self.view(pending, outbox: outbox), alreadyPending: true)
      }
      guest = existing
    } else {
      var removedFilter = UserFilter()
      removedFilter.mail = prepared.email
      removedFilter.onlyDeleted = true
      if let removed = try writer.users(tenantID: tenantID, filter: removedFilter, after: "", limit: 1).first {
        throw RPCError.failedPrecondition(
          "\(prepared.email) belongs to removed guest \(removed.id); restore it first", reason: .guestRemoved)
      }
      guest = User(
        id: prepared.guestID, tenantID: tenantID, userType: prepared.userType,
        displayName: prepared.displayName.isEmpty ? Self.localPart(of: prepared.email) : prepared.displayName, mail: prepared.email, accountEnabled: true,
        createdAt: now, updatedAt: now, externalUserState: .pendingAcceptance, externalUserStateChangedAt: now, creationType: .invitation,
        sponsors: sponsors, accessExpiresAt: request.accessExpiresAt, invitedBy: inviter?.id ?? "")
      if prepared.userType == .member { guest.sponsors = [] }
      try writer.insertUser(guest)
    }
    try issuer.chargeRateLimit(writer, settings: settings, tenantID: tenantID, now: now)
    let lifetime = try InvitationIssuer.lifetime(requestedSeconds: request.expiresInSeconds, settings: settings)
    let ticket = (ticket: prepared.ticket, hash: prepared.ticketHash)
    var invitation = Invitation(
      id: prepared.invitationID, tenantID: tenantID, invitedEmail: prepared.email, invitedDisplayName: prepared.displayName,
      invitedUserType: prepared.userType, redirectURL: prepared.redirectURL, sendInvitationMessage: request.sendInvitationMessage,
      messageInfo: prepared.messageInfo, invitedBy: inviter?.id ?? "", grants: request.grants, status: .pendingAcceptance,
      expiresAt: now + lifetime, guestUserID: guest.id, createdAt: now, idempotencyKey: prepared.key)
    let url = issuer.redeemURL(ticket: ticket.ticket)
    if request.sendInvitationMessage {
      invitation.emailDelivery = try issuer.queueInvitationEmail(writer, invitation: invitation, redeemURL: url, inviter: inviter, tenant: tenant, now: now)
    } else {
      invitation.emailDelivery = InvitationEmailDelivery(status: .notRequested)
    }
    try writer.insertInvitation(invitation, ticketHash: ticket.hash)
    try audit.record(writer, &events, tenantID: tenantID, action: .invitationCreated, targetType: .invitation, targetID: invitation.id,
                     details: ["invited_email": prepared.email, "guest_user_id": guest.id, "email": request.sendInvitationMessage ? "queued" : "not_requested"])
    invitation.redeemURL = url
    return CreateInvitationResponse(invitation: invitation, alreadyPending: false)
  }

  /// The name of a guest invited without one: the local part of its address.
  static func localPart(of email: String) -> String {
    String(email.split(separator: "@", omittingEmptySubsequences: false).first ?? Substring(email))
  }
}
