import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  /// What an admin's change of one guest is given inside its write.
  struct GuestChange {
    let writer: any DirectoryWriter
    let audit: AuditRecorder
    let now: Int64
  }

  /// An admin's change of the guest `userID` of the acting tenant, in one
  /// write: the caller must be an admin; an unknown guest is NOT_FOUND;
  /// `change` edits the guest (it writes and audits what it changes) and the
  /// guest as it then stands is returned.
  func changeGuest(
    tenantID requested: String, userID: String, context: ServerContext,
    _ change: @escaping @Sendable (inout User, GuestChange, inout [AuditEvent]) throws -> Void
  ) async throws -> User {
    let (principal, _, tenantID) = try Self.caller(context, tenantID: requested)
    try Access.requireAdmin(principal)
    let id = try Validation.id(userID, field: "user_id")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      var guest = try Self.guest(writer, tenantID: tenantID, id: id)
      try change(&guest, GuestChange(writer: writer, audit: audit, now: now), &events)
      return guest
    }
  }
}
