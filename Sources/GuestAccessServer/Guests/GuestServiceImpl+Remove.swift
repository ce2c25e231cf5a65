import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  public func removeGuest(request: RemoveGuestRequest, context: ServerContext) async throws -> User {
    try await changeGuest(tenantID: request.tenantID, userID: request.userID, context: context) { guest, change, events in
      guard guest.deletedAt == 0 else { return }
      try GuestRemoval.remove(&guest, writer: change.writer, events: &events, audit: change.audit, now: change.now)
    }
  }

  public func restoreGuest(request: RestoreGuestRequest, context: ServerContext) async throws -> User {
    try await changeGuest(tenantID: request.tenantID, userID: request.userID, context: context) { guest, change, events in
      guard guest.deletedAt != 0 else { return }
      guard change.now - guest.deletedAt <= Self.restoreWindowMillis else {
        throw RPCError.failedPrecondition(
          "guest \(guest.id) was removed more than 30 days ago and awaits its purge", reason: .restorePeriodEnded)
      }
      if let other = try change.writer.user(tenantID: guest.tenantID, mail: guest.mail.lowercased()), other.id != guest.id {
        throw RPCError.alreadyExists("another user of the tenant (\(other.id)) now has the mail \(guest.mail)", reason: .userExists)
      }
      let removedAt = guest.deletedAt
      guest.deletedAt = 0
      guest.updatedAt = change.now
      try change.writer.updateUser(guest)
      try change.audit.record(change.writer, &events, tenantID: guest.tenantID, action: .guestRestored, targetType: .user,
                              targetID: guest.id, details: ["removed_at": String(removedAt)])
    }
  }

  public func leaveTenant(request: LeaveTenantRequest, context: ServerContext) async throws -> User {
    let principal = try context.principal()
    guard let home = principal.homeUser, let acting = principal.actingUser else {
      throw RPCError.permissionDenied("the operator is a guest nowhere")
    }
    let target = request.tenantID.isEmpty ? acting.tenantID : try Validation.id(request.tenantID, field: "tenant_id")
    if (target == acting.tenantID && acting.userType != .guest) || (target == home.tenantID && home.userType != .guest) {
      throw RPCError.failedPrecondition("you are a member of this tenant, not a guest; only guests can leave", reason: .notAGuest)
    }
    let now = env.clock.nowMillis()
    let requestID = context.requestID
    return try await env.write { writer, events in
      var guest: User
      if target == acting.tenantID {
        guard let current = try writer.user(tenantID: target, id: acting.id) else { throw RPCError.notFound(kind: "tenant", id: target) }
        guest = current
      } else {
        // A home user naming, without the `tenant` metadata, a tenant where it is a guest.
        guard let link = try writer.guestLinks(homeUserID: home.id).first(where: { $0.tenantID == target && $0.deletedAt == 0 }) else {
          throw RPCError.notFound(kind: "tenant", id: target)
        }
        guest = link
      }
      guard guest.deletedAt == 0 else { return guest }
      // The event's actor is the guest object in the tenant being left.
      var leaving = principal
      leaving.actingUser = guest
      let audit = AuditRecorder(leaving, requestID: requestID, now: now)
      try GuestRemoval.remove(&guest, writer: writer, events: &events, audit: audit, now: now, action: .guestLeft)
      return guest
    }
  }
}
