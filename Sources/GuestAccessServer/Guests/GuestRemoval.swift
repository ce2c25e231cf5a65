import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// Removing a guest and what goes with it, shared by RemoveGuest,
/// LeaveTenant, ResetRedemption and the sweeper. Runs inside the caller's
/// write transaction and records an audit event for every change.
enum GuestRemoval {
  /// Soft-deletes `guest`: it is refused at once, its pending invitations
  /// and its own credentials are revoked, and its memberships and
  /// assignments are kept so that a restore brings them back.
  static func remove(
    _ guest: inout User, writer: any DirectoryWriter, events: inout [AuditEvent], audit: AuditRecorder, now: Int64,
    action: AuditAction = .guestRemoved, details: [String: String] = [:]
  ) throws {
    guest.deletedAt = now
    guest.removalScheduledAt = 0
    guest.updatedAt = now
    try writer.updateUser(guest)
    try audit.record(writer, &events, tenantID: guest.tenantID, action: action, targetType: .user, targetID: guest.id, details: details)
    try revokePendingInvitations(of: guest, writer: writer, events: &events, audit: audit, now: now, reason: "guest_removed")
    try revokeCredentials(of: guest, writer: writer, events: &events, audit: audit, now: now, reason: "guest_removed")
  }

  /// Revokes the guest's pending invitations: their tickets stop working.
  static func revokePendingInvitations(
    of guest: User, writer: any DirectoryWriter, events: inout [AuditEvent], audit: AuditRecorder, now: Int64, reason: String
  ) throws {
    var filter = InvitationFilter()
    filter.guestUserID = guest.id
    filter.status = .pendingAcceptance
    for var invitation in try writer.invitations(tenantID: guest.tenantID, filter: filter, after: "", limit: 10_000) {
      invitation.status = .revoked
      invitation.revokedAt = now
      try writer.updateInvitation(invitation, ticketHash: [])
      try audit.record(writer, &events, tenantID: guest.tenantID, action: .invitationRevoked, targetType: .invitation,
                       targetID: invitation.id, details: ["reason": reason, "guest_user_id": guest.id])
    }
  }

  /// Revokes the credentials issued to the user itself, each with a
  /// CREDENTIAL_REVOKED event (a deleted member's keys, an email passcode
  /// guest's key; guests with a home tenant have none here).
  static func revokeCredentials(
    of guest: User, writer: any DirectoryWriter, events: inout [AuditEvent], audit: AuditRecorder, now: Int64, reason: String
  ) throws {
    for var credential in try writer.credentials(tenantID: guest.tenantID, userID: guest.id, after: "", limit: 100_000)
    where credential.revokedAt == 0 {
      credential.revokedAt = now
      credential.state = .revoked
      try writer.updateCredential(credential)
      try audit.record(writer, &events, tenantID: guest.tenantID, action: .credentialRevoked, targetType: .credential,
                       targetID: credential.id, details: ["reason": reason, "user_id": guest.id])
    }
  }
}
