import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension Sweeper {
  /// Pending invitations past their expiry become EXPIRED. Their tickets stay,
  /// so a link opened after the sweep says "expired" as it did before it
  /// (a revoked or replaced ticket is cleared instead: it answers as unknown).
  static func expireInvitations(
    _ writer: any DirectoryWriter, _ events: inout [AuditEvent], _ audit: AuditRecorder, now: Int64, limit: Int
  ) throws -> Batch {
    let due = try writer.pendingInvitations(expiringBy: now, limit: limit)
    for var invitation in due {
      invitation.status = .expired
      try writer.updateInvitation(invitation, ticketHash: nil)
      try audit.record(writer, &events, tenantID: invitation.tenantID, action: .invitationExpired, targetType: .invitation,
                       targetID: invitation.id, details: ["expires_at": String(invitation.expiresAt)])
    }
    return Batch(fetched: due.count, counted: due.count)
  }

  /// Enabled guests past their access expiry are blocked.
  static func expireGuests(
    _ writer: any DirectoryWriter, _ events: inout [AuditEvent], _ audit: AuditRecorder, now: Int64, limit: Int
  ) throws -> Batch {
    let due = try writer.expiredGuests(by: now, limit: limit)
    for var guest in due {
      guest.accountEnabled = false
      guest.updatedAt = now
      try writer.updateUser(guest)
      try audit.record(writer, &events, tenantID: guest.tenantID, action: .guestAccessExpired, targetType: .user, targetID: guest.id,
                       details: ["access_expires_at": String(guest.accessExpiresAt)])
    }
    return Batch(fetched: due.count, counted: due.count)
  }

  /// Guests whose review-scheduled removal is due are removed, unless re-enabled meanwhile.
  static func removeScheduled(
    _ writer: any DirectoryWriter, _ events: inout [AuditEvent], _ audit: AuditRecorder, now: Int64, limit: Int
  ) throws -> Batch {
    let due = try writer.guestsDueForRemoval(by: now, limit: limit)
    var batch = Batch(fetched: due.count, counted: 0)
    for var guest in due {
      let scheduled = guest.removalScheduledAt
      if guest.accountEnabled {
        guest.removalScheduledAt = 0
        guest.updatedAt = now
        try writer.updateUser(guest)
        try audit.record(writer, &events, tenantID: guest.tenantID, action: .guestUpdated, targetType: .user, targetID: guest.id,
                         details: ["fields": "removal_scheduled_at", "removal_cancelled_at": String(scheduled), "reason": "sign_in_enabled"])
        batch.other += 1
      } else {
        try GuestRemoval.remove(&guest, writer: writer, events: &events, audit: audit, now: now,
                                details: ["reason": "scheduled_removal", "removal_scheduled_at": String(scheduled)])
        batch.counted += 1
      }
    }
    return batch
  }

  /// Guests removed more than 30 days ago are deleted for good.
  static func purge(
    _ writer: any DirectoryWriter, _ events: inout [AuditEvent], _ audit: AuditRecorder, now: Int64, limit: Int
  ) throws -> Batch {
    let due = try writer.removedUsers(removedBy: now - GuestServiceImpl.restoreWindowMillis, limit: limit)
    for user in due {
      try GuestRemoval.revokePendingInvitations(of: user, writer: writer, events: &events, audit: audit, now: now, reason: "guest_purged")
      try GuestRemoval.revokeCredentials(of: user, writer: writer, events: &events, audit: audit, now: now, reason: "guest_purged")
      try writer.deleteUser(id: user.id)
      try audit.record(writer, &events, tenantID: user.tenantID, action: .guestPurged, targetType: .user, targetID: user.id,
                       details: ["removed_at": String(user.deletedAt)])
    }
    return Batch(fetched: due.count, counted: due.count)
  }
}
