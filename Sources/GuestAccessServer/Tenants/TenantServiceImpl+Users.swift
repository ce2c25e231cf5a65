import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  public func createUser(request: CreateUserRequest, context: ServerContext) async throws -> User {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireAdmin(principal)
    let name = try Validation.displayName(request.displayName)
    let mail = try Validation.email(request.mail, field: "mail")
    let roles = try Self.roles(request.roles, granter: principal)
    let key = try Validation.idempotencyKey(request.idempotencyKey)
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      try Idempotency.run(writer, key: key, scope: "\(principal.actorID)|CreateUser", request: request, now: now) {
        guard let tenant = try writer.tenant(id: tenantID) else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
        if try writer.user(tenantID: tenantID, mail: mail) != nil {
          throw RPCError.alreadyExists("a user with mail \(mail) already exists in the tenant", reason: .userExists)
        }
        var user = User(
          id: Secrets.newID(prefix: "usr_"), tenantID: tenantID, userType: .member, displayName: name, mail: mail, roles: roles,
          accountEnabled: true, createdAt: now, updatedAt: now)
        user.mailVerified = VerifiedMail.isVerified(user, tenantDomains: tenant.verifiedDomains)
        try writer.insertUser(user)
        try audit.record(writer, &events, tenantID: tenantID, action: .userCreated, targetType: .user, targetID: user.id,
                         details: ["roles": roles.map(\.protoName).joined(separator: ",")])
        return user
      }
    }
  }

  public func getUser(request: GetUserRequest, context: ServerContext) async throws -> User {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    let userID = Access.resolveSelf(try Validation.id(request.userID, field: "user_id"), principal)
    return try await env.read { reader in
      guard let user = try reader.user(tenantID: tenantID, id: userID) else { throw RPCError.notFound(kind: "user", id: userID) }
      if user.deletedAt != 0 && !(principal.isOperator || principal.isAdmin) { throw RPCError.notFound(kind: "user", id: userID) }
      guard principal.isGuest else { return user }
      return try GuestVisibility(reader: reader, principal: principal, tenantID: tenantID).view(of: user) ?? {
        throw RPCError.notFound(kind: "user", id: userID)
      }()
    }
  }

  public func listUsers(request: ListUsersRequest, context: ServerContext) async throws -> ListUsersResponse {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    let size = try PageToken.size(request.pageSize)
    let cursor = try PageToken.cursor(request.pageToken, listing: "users:\(tenantID)")
    var filter = UserFilter()
    if request.userType != .unspecified { filter.userType = request.userType }
    if !request.groupID.isEmpty { filter.groupID = request.groupID }
    if !request.applicationID.isEmpty { filter.applicationID = request.applicationID }
    if !request.mail.isEmpty { filter.mail = request.mail.lowercased() }
    if request.role != .unspecified { filter.role = request.role }
    let finalFilter = filter
    let rows = try await env.read { reader -> [User] in
      guard try reader.tenant(id: tenantID) != nil else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      let rows = try reader.users(tenantID: tenantID, filter: finalFilter, after: cursor, limit: size + 1)
      guard principal.isGuest else { return rows }
      let visibility = GuestVisibility(reader: reader, principal: principal, tenantID: tenantID)
      return try rows.compactMap { try visibility.view(of: $0) }
    }
    let page = PageToken.page(rows, size: size, listing: "users:\(tenantID)") { $0.id }
    return ListUsersResponse(users: page.items, nextPageToken: page.next)
  }

  public func updateUser(request: UpdateUserRequest, context: ServerContext) async throws -> User {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    let userID = try Validation.id(request.userID, field: "user_id")
    let known = ["display_name", "mail", "account_enabled"]
    let mask = request.updateMask.contains("*") ? known : request.updateMask
    guard !mask.isEmpty else { throw RPCError.invalidArgument(field: "update_mask", "name the fields to change") }
    for field in mask where !known.contains(field) {
      throw RPCError.invalidArgument(field: "update_mask", "unknown field \(field.prefix(64))")
    }
    let isSelf = principal.actingUser?.id == userID
    if !(principal.isOperator || principal.isAdmin) && !(isSelf && mask == ["display_name"]) {
      throw RPCError.permissionDenied("needs the GLOBAL_ADMIN or USER_ADMIN role (users may change their own display_name)")
    }
    let name = mask.contains("display_name") ? try Validation.displayName(request.displayName) : nil
    let mail = mask.contains("mail") ? try Validation.email(request.mail, field: "mail") : nil
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var user = try writer.user(tenantID: tenantID, id: userID), user.deletedAt == 0 else {
        throw RPCError.notFound(kind: "user", id: userID)
      }
      if Self.isAdmin(user) && !principal.isOperator && !principal.isGlobalAdmin && !isSelf {
        throw RPCError.permissionDenied("changing another admin (GLOBAL_ADMIN or USER_ADMIN) needs GLOBAL_ADMIN")
      }
      if let name { user.displayName = name }
      if let mail, mail != user.mail {
        guard user.userType == .member else {
          throw RPCError.failedPrecondition("a guest's mail is its invited address and cannot change", reason: .guestMailImmutable)
        }
        user.mail = mail
        user.mailVerified = try VerifiedMail.isVerified(user, reader: writer)
      }
      if mask.contains("account_enabled") && user.accountEnabled != request.accountEnabled {
        if !request.accountEnabled && user.roles.contains(.globalAdmin) {
          try Self.ensureAnotherGlobalAdmin(writer, tenantID: tenantID, excluding: userID)
        }
        user.accountEnabled = request.accountEnabled
      }
      user.updatedAt = now
      try writer.updateUser(user)
      try audit.record(writer, &events, tenantID: tenantID, action: .userUpdated, targetType: .user, targetID: userID,
                       details: ["fields": mask.joined(separator: ",")])
      return user
    }
  }

  public func deleteUser(request: DeleteUserRequest, context: ServerContext) async throws -> User {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireAdmin(principal)
    let userID = try Validation.id(request.userID, field: "user_id")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var user = try writer.user(tenantID: tenantID, id: userID), user.deletedAt == 0 else {
        throw RPCError.notFound(kind: "user", id: userID)
      }
      if Self.isAdmin(user) && !principal.isOperator && !principal.isGlobalAdmin {
        throw RPCError.permissionDenied("deleting an admin needs GLOBAL_ADMIN")
      }
      if user.roles.contains(.globalAdmin) {
        try Self.ensureAnotherGlobalAdmin(writer, tenantID: tenantID, excluding: userID)
      }
      user.deletedAt = now
      user.updatedAt = now
      if user.userType == .guest {
        // As GuestService.RemoveGuest: pending invitations and the guest's own keys are revoked too.
        try GuestRemoval.remove(&user, writer: writer, events: &events, audit: audit, now: now)
        return user
      }
      try audit.record(writer, &events, tenantID: tenantID, action: .userDeleted, targetType: .user, targetID: userID)
      try GuestRemoval.revokeCredentials(of: user, writer: writer, events: &events, audit: audit, now: now, reason: "user_deleted")
      try writer.deleteUser(id: userID)
      return user
    }
  }

  public func setRoles(request: SetRolesRequest, context: ServerContext) async throws -> User {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireAdmin(principal)
    let userID = try Validation.id(request.userID, field: "user_id")
    let roles = try Self.roles(request.roles, granter: principal, allowUnprivileged: true)
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var user = try writer.user(tenantID: tenantID, id: userID), user.deletedAt == 0 else {
        throw RPCError.notFound(kind: "user", id: userID)
      }
      guard user.userType == .member || roles.allSatisfy({ $0 == .guestInviter }) else {
        throw RPCError.failedPrecondition("guests can hold only the GUEST_INVITER role", reason: .guestRole)
      }
      let changed = Set(user.roles).symmetricDifference(roles)
      if !principal.isOperator && !principal.isGlobalAdmin && changed.contains(where: { $0 != .guestInviter }) {
        throw RPCError.permissionDenied("USER_ADMIN may add or remove GUEST_INVITER only")
      }
      if !principal.isOperator && !principal.isGlobalAdmin && Self.isAdmin(user) && user.id != principal.actingUser?.id {
        throw RPCError.permissionDenied("changing another admin (GLOBAL_ADMIN or USER_ADMIN) needs GLOBAL_ADMIN")
      }
      if user.roles.contains(.globalAdmin) && !roles.contains(.globalAdmin) {
        try Self.ensureAnotherGlobalAdmin(writer, tenantID: tenantID, excluding: userID)
      }
      user.roles = roles
      user.updatedAt = now
      try writer.updateUser(user)
      try audit.record(writer, &events, tenantID: tenantID, action: .rolesChanged, targetType: .user, targetID: userID,
                       details: ["roles": roles.map(\.protoName).joined(separator: ",")])
      return user
    }
  }

  /// Whether `user` holds an admin role (GLOBAL_ADMIN or USER_ADMIN). The
  /// hierarchy (docs/SECURITY.md): GLOBAL_ADMIN changes anyone; USER_ADMIN
  /// changes users without an admin role, and itself; others only themselves.
  static func isAdmin(_ user: User) -> Bool {
    user.userType == .member && user.roles.contains { $0 == .globalAdmin || $0 == .userAdmin }
  }

  /// Validates roles; granting GLOBAL_ADMIN or USER_ADMIN needs GLOBAL_ADMIN (or the operator).
  static func roles(_ requested: [Role], granter: Principal, allowUnprivileged: Bool = true) throws(RPCError) -> [Role] {
    var result: [Role] = []
    for (index, role) in requested.enumerated() {
      switch role {
      case .globalAdmin, .userAdmin, .guestInviter:
        if !result.contains(role) { result.append(role) }
      default:
        throw RPCError.invalidArgument(field: "roles[\(index)]", "unknown role")
      }
    }
    if result.contains(where: { $0 != .guestInviter }) && !granter.isOperator && !granter.isGlobalAdmin {
      throw RPCError.permissionDenied("granting GLOBAL_ADMIN or USER_ADMIN needs GLOBAL_ADMIN")
    }
    return result.sorted { $0.rawValue < $1.rawValue }
  }

  static func ensureAnotherGlobalAdmin(_ reader: any DirectoryReader, tenantID: String, excluding userID: String) throws {
    var filter = UserFilter()
    filter.role = .globalAdmin
    filter.userType = .member
    let admins = try reader.users(tenantID: tenantID, filter: filter, after: "", limit: 100)
    guard admins.contains(where: { $0.id != userID && $0.accountEnabled }) else {
      throw RPCError.failedPrecondition("the tenant must keep an enabled GLOBAL_ADMIN", reason: .lastGlobalAdmin)
    }
  }
}
