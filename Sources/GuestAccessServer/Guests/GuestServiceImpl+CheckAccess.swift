import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  public func checkAccess(request: CheckAccessRequest, context: ServerContext) async throws -> CheckAccessResponse {
    let (principal, caller, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let principalID = try Self.userID(request.principalUserID, field: "principal_user_id", caller: principal)
    let resourceID = try Validation.id(request.resourceID, field: "resource_id")
    switch request.resourceType {
    case .unspecified, .application, .group: break
    default: throw RPCError.invalidArgument(field: "resource_type", "must be APPLICATION, GROUP or UNSPECIFIED")
    }
    if principal.isGuest && principalID != caller.id {
      throw RPCError.permissionDenied("guests may check only their own access (principal_user_id \"self\")")
    }
    let requestedType = request.resourceType
    let now = env.clock.nowMillis()
    return try await env.read { reader in
      guard let user = try reader.user(tenantID: tenantID, id: principalID) else { throw RPCError.notFound(kind: "user", id: principalID) }
      let resource: AccessChecker.Resource
      if requestedType != .group, try reader.application(tenantID: tenantID, id: resourceID) != nil {
        resource = .application(resourceID)
      } else if requestedType != .application, try reader.group(tenantID: tenantID, id: resourceID) != nil {
        resource = .group(resourceID)
      } else {
        throw RPCError.notFound(
          kind: requestedType == .unspecified ? "resource" : requestedType == .group ? "group" : "application", id: resourceID)
      }
      let reason = try AccessChecker(reader: reader, now: now).reason(principal: user, resource: resource, tenantID: tenantID)
      let type: DirectoryObjectType = if case .group = resource { .group } else { .application }
      return CheckAccessResponse(
        allowed: reason == .applicationAssigned || reason == .groupMember, reason: reason, principalUserID: principalID, resourceType: type)
    }
  }
}
