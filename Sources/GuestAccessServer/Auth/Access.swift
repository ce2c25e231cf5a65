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
    guard requested.isEmpty || requested == principal.actingTenantID else { throw notFound("tenant", requested) }
    return principal.actingTenantID
  }

  /// A user id where "self" names the caller's acting user.
  static func resolveSelf(_ id: String, _ principal: Principal) -> String {
    id == "self" ? principal.actingUser?.id ?? id : id
  }

  /// Operator only.
  static func requireOperator(_ principal: Principal) throws(RPCError) {
    guard principal.isOperator else { throw denied("only the operator may do this") }
  }

  /// Operator or GLOBAL_ADMIN.
  static func requireGlobalAdmin(_ principal: Principal) throws(RPCError) {
    guard principal.isOperator || principal.isGlobalAdmin else { throw denied("needs the GLOBAL_ADMIN role") }
  }

  /// Operator, GLOBAL_ADMIN or USER_ADMIN.
  static func requireAdmin(_ principal: Principal) throws(RPCError) {
    guard principal.isOperator || principal.isAdmin else { throw denied("needs the GLOBAL_ADMIN or USER_ADMIN role") }
  }

  /// Any member (not a guest), or the operator.
  static func requireMember(_ principal: Principal) throws(RPCError) {
    guard principal.isOperator || !principal.isGuest else { throw denied("guests may not do this") }
  }

  /// Users only (not the operator).
  static func requireUser(_ principal: Principal) throws(RPCError) -> User {
    guard let user = principal.actingUser else { throw denied("the operator has no user in a tenant") }
    return user
  }

  static func notFound(_ kind: String, _ id: String) -> RPCError {
    RPCError(code: .notFound, message: "\(kind) \(id.prefix(64)) not found",
             errorInfo: ErrorInfo(reason: "NOT_FOUND", domain: "guestaccess.v1", metadata: [MetadataEntry(key: "kind", value: kind)]))
  }

  static func denied(_ message: String, reason: String = "PERMISSION_DENIED") -> RPCError {
    RPCError(code: .permissionDenied, message: message, errorInfo: ErrorInfo(reason: reason, domain: "guestaccess.v1"))
  }

  static func precondition(_ message: String, reason: String) -> RPCError {
    RPCError(code: .failedPrecondition, message: message, errorInfo: ErrorInfo(reason: reason, domain: "guestaccess.v1"))
  }
}
