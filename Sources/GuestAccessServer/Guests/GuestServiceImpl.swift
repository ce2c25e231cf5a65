import GuestAccessAPI
import GuestAccessServerAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// GuestService: the guest lifecycle — view, update,
/// block, remove, restore, reset redemption, leave — plus access checks and
/// access reviews.
///
/// Every method needs a tenant user (the operator is PERMISSION_DENIED) and
/// acts in `tenant_id`, else the caller's acting tenant. Ids of members, or
/// of another tenant's users, are NOT_FOUND where a guest is expected.
public struct GuestServiceImpl: GuestService.ServiceProtocol {
  let env: ServiceEnvironment
  let issuer: InvitationIssuer

  /// Creates the service.
  public init(environment: ServiceEnvironment) {
    env = environment
    issuer = InvitationIssuer(env: environment)
  }

  /// How long a removed guest can be restored; the sweeper purges it afterwards.
  public static let restoreWindowMillis: Int64 = 30 * 86_400_000

  /// The caller (never the operator) and the tenant the request acts on.
  static func caller(_ context: ServerContext, tenantID: String) throws(RPCError) -> (principal: Principal, user: User, tenantID: String) {
    let principal = try context.principal()
    let user = try Access.requireUser(principal)
    return (principal, user, try Access.tenant(tenantID, principal))
  }

  /// A user id from a request; "self" names the caller's user in the acting tenant.
  static func userID(_ value: String, field: String, caller principal: Principal) throws(RPCError) -> String {
    if value == "self" { return principal.actorID }
    return try Validation.id(value, field: field)
  }

  /// The guest `id` of the tenant, removed ones included. NOT_FOUND for
  /// members and for users of other tenants.
  static func guest(_ reader: any DirectoryReader, tenantID: String, id: String) throws -> User {
    guard let user = try reader.user(tenantID: tenantID, id: id), user.userType == .guest else {
      throw RPCError.notFound(kind: "guest", id: id)
    }
    return user
  }

  /// FAILED_PRECONDITION (reason GUEST_REMOVED) for a removed guest.
  static func requireNotRemoved(_ guest: User) throws(RPCError) {
    guard guest.deletedAt == 0 else {
      throw RPCError.failedPrecondition("guest \(guest.id) was removed; restore it first", reason: .guestRemoved)
    }
  }

  /// The tenant's effective settings.
  func settings(_ reader: any DirectoryReader, tenantID: String) throws -> TenantSettings {
    TenantServiceImpl.effective(try reader.settings(tenantID: tenantID), tenantID: tenantID, defaultRateLimit: env.defaultInvitationRateLimit)
  }
}
