import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  public func updateGuest(request: UpdateGuestRequest, context: ServerContext) async throws -> User {
    let (principal, caller, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let id = try Self.userID(request.userID, field: "user_id", caller: principal)
    let known = ["display_name", "sponsors", "access_expires_at"]
    let mask = request.updateMask.contains("*") ? known : request.updateMask
    guard !mask.isEmpty else { throw RPCError.invalidArgument(field: "update_mask", "name the fields to change") }
    for field in mask where !known.contains(field) {
      throw RPCError.invalidArgument(field: "update_mask", "unknown field \(field.prefix(64))")
    }
    let name = mask.contains("display_name") ? try Validation.displayName(request.displayName) : nil
    let sponsors = mask.contains("sponsors") ? try Self.sponsorIDs(request.sponsors) : nil
    if mask.contains("access_expires_at") && request.accessExpiresAt < 0 {
      throw RPCError.invalidArgument(field: "access_expires_at", "must not be negative (0 = no expiry)")
    }
    let expiry = mask.contains("access_expires_at") ? request.accessExpiresAt : nil
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      var guest = try Self.guest(writer, tenantID: tenantID, id: id)
      guard principal.isAdmin || (!principal.isGuest && guest.sponsors.contains(caller.id)) else {
        throw RPCError.permissionDenied("needs the GLOBAL_ADMIN or USER_ADMIN role, or to be a sponsor of the guest")
      }
      try Self.requireNotRemoved(guest)
      var changed: [String] = []
      if let name, name != guest.displayName {
        guest.displayName = name
        changed.append("display_name")
      }
      if let sponsors, sponsors != guest.sponsors {
        for (index, sponsor) in sponsors.enumerated() {
          guard let user = try writer.user(tenantID: tenantID, id: sponsor), user.userType == .member, user.deletedAt == 0 else {
            throw RPCError.invalidArgument(field: "sponsors[\(index)]", "is not a member of the tenant")
          }
        }
        guest.sponsors = sponsors
        changed.append("sponsors")
      }
      if let expiry, expiry != guest.accessExpiresAt {
        // A sponsor without an admin role may end access sooner, never later nor remove the limit.
        let shortens = expiry != 0 && (guest.accessExpiresAt == 0 || expiry < guest.accessExpiresAt)
        guard principal.isAdmin || shortens else {
          throw RPCError.permissionDenied(
            "only GLOBAL_ADMIN or USER_ADMIN may extend or remove a guest's access expiry; sponsors may shorten it")
        }
        try Self.alignCredentials(of: guest, from: guest.accessExpiresAt, to: expiry, writer: writer)
        guest.accessExpiresAt = expiry
        changed.append("access_expires_at")
      }
      guard !changed.isEmpty else { return guest }
      guest.updatedAt = now
      try writer.updateUser(guest)
      var details = ["fields": changed.joined(separator: ",")]
      if changed.contains("access_expires_at") { details["access_expires_at"] = String(guest.accessExpiresAt) }
      try audit.record(writer, &events, tenantID: tenantID, action: .guestUpdated, targetType: .user, targetID: guest.id, details: details)
      return guest
    }
  }

  /// Validated sponsor ids: at most 5, duplicates dropped, order kept.
  static func sponsorIDs(_ requested: [String]) throws(RPCError) -> [String] {
    var result: [String] = []
    for (index, sponsor) in requested.enumerated() {
      let id = try Validation.id(sponsor, field: "sponsors[\(index)]")
      if !result.contains(id) { result.append(id) }
    }
    guard result.count <= 5 else { throw RPCError.invalidArgument(field: "sponsors", "at most 5 sponsors") }
    return result
  }

  /// Keeps the guest's own credentials within its access: keys that expired
  /// with the old access expiry follow the new one, and no key outlives it.
  static func alignCredentials(of guest: User, from old: Int64, to new: Int64, writer: any DirectoryWriter) throws {
    for var credential in try writer.credentials(tenantID: guest.tenantID, userID: guest.id, after: "", limit: 10_000)
    where credential.revokedAt == 0 {
      let expiresAt = credential.expiresAt
      if old != 0 && expiresAt == old {
        credential.expiresAt = new
      } else if new != 0 && (expiresAt == 0 || expiresAt > new) {
        credential.expiresAt = new
      }
      if credential.expiresAt != expiresAt { try writer.updateCredential(credential) }
    }
  }

  public func blockSignIn(request: BlockSignInRequest, context: ServerContext) async throws -> User {
    try await changeGuest(tenantID: request.tenantID, userID: request.userID, context: context) { guest, change, events in
      try Self.requireNotRemoved(guest)
      guard guest.accountEnabled else { return }
      guest.accountEnabled = false
      guest.updatedAt = change.now
      try change.writer.updateUser(guest)
      try change.audit.record(change.writer, &events, tenantID: guest.tenantID, action: .guestSignInBlocked, targetType: .user,
                              targetID: guest.id)
    }
  }

  public func unblockSignIn(request: UnblockSignInRequest, context: ServerContext) async throws -> User {
    try await changeGuest(tenantID: request.tenantID, userID: request.userID, context: context) { guest, change, events in
      try Self.requireNotRemoved(guest)
      guard !guest.accountEnabled || guest.removalScheduledAt != 0 else { return }
      var details: [String: String] = [:]
      if guest.removalScheduledAt != 0 { details["removal_cancelled_at"] = String(guest.removalScheduledAt) }
      guest.accountEnabled = true
      guest.removalScheduledAt = 0
      guest.updatedAt = change.now
      try change.writer.updateUser(guest)
      try change.audit.record(change.writer, &events, tenantID: guest.tenantID, action: .guestSignInUnblocked, targetType: .user,
                              targetID: guest.id, details: details)
    }
  }
}
