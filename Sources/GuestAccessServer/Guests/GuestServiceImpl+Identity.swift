import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  public func lookupGuestByIdentity(request: LookupGuestByIdentityRequest, context: ServerContext) async throws -> User {
    let (principal, _, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let issuer = request.issuer
    guard !issuer.isEmpty, issuer.count <= 1024 else {
      throw RPCError.invalidArgument(field: "issuer", "must be 1-1024 characters")
    }
    let subject = request.issuerAssignedID
    guard !subject.isEmpty, subject.utf8.count <= 255 else {
      throw RPCError.invalidArgument(field: "issuer_assigned_id", "must be 1-255 bytes")
    }
    return try await env.read { reader in
      // Only this tenant's link is read: another tenant's guest with the same identity is not revealed.
      guard let link = try reader.federatedLinks(issuer: issuer, subject: subject).first(where: { $0.tenantID == tenantID }),
        let guest = try reader.user(tenantID: tenantID, id: link.userID), guest.userType == .guest
      else { throw RPCError.notFound(kind: "guest", id: subject) }
      return try Self.readable(guest, by: principal, reader: reader)
    }
  }
}
