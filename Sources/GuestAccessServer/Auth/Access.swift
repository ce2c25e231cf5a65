import GuestAccessCore
import GuestAccessProto

/// Authorization checks shared by the services: the operator
/// manages tenants; roles govern a tenant; another tenant's objects answer
/// NOT_FOUND so their existence is not revealed.
enum Access {
  /// The tenant a request acts on: `requested`, or the caller's acting tenant
  /// when empty. A user naming another tenant gets NOT_FOUND.
  static func tenant(_ requested: String, _ principal: Principal) throws(RPCError) -> String {
    if principal.isOperator {
      guard !requested.isEmpty else { throw RPCError.invalidArgument(field: "tenant_id", "is required for the operator") }
      return requested
    }
    guard requested.isEmpty || requested == principal.actingTenantID else { throw RPCError.notFound(kind: "tenant", id: requested) }
    return principal.actingTenantID
  }

  /// A user id where "self" names the caller's acting user.
  static func resolveSelf(_ id: String, _ principal: Principal) -> String {
    id == "self" ? principal.actingUser?.id ?? id : id
  }

  /// Operator only.
  static func requireOperator(_ principal: Principal) throws(RPCError) {
    guard principal.isOperator else { throw RPCError.permissionDenied("only the operator may do this") }
  }

  /// Operator or GLOBAL_ADMIN.
  static func requireGlobalAdmin(_ principal: Principal) throws(RPCError) {
    guard principal.isOperator || principal.isGlobalAdmin else { throw RPCError.permissionDenied("needs the GLOBAL_ADMIN role") }
  }

  /// Operator, GLOBAL_ADMIN or USER_ADMIN.
  static func requireAdmin(_ principal: Principal) throws(RPCError) {
    guard principal.isOperator || principal.isAdmin else { throw RPCError.permissionDenied("needs the GLOBAL_ADMIN or USER_ADMIN role") }
  }

  /// Any member (not a guest), or the operator.
  static func requireMember(_ principal: Principal) throws(RPCError) {
    guard principal.isOperator || !principal.isGuest else { throw RPCError.permissionDenied("guests may not do this") }
  }

  /// Users only (not the operator).
  static func requireUser(_ principal: Principal) throws(RPCError) -> User {
    guard let user = principal.actingUser else { throw RPCError.permissionDenied("the operator has no user in a tenant") }
    return user
  }
}
