import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  public func createGroup(request: CreateGroupRequest, context: ServerContext) async throws -> Group {
    try await createResource(
      .group, tenantID: request.tenantID, displayName: request.displayName, description: request.description,
      idempotencyKey: request.idempotencyKey, request: request, context: context
    ) { writer, id, tenantID, name, description, now in
      let group = Group(id: id, tenantID: tenantID, displayName: name, description: description, createdAt: now)
      try writer.insertGroup(group)
      return group
    }
  }

  public func listGroups(request: ListGroupsRequest, context: ServerContext) async throws -> ListGroupsResponse {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    let size = try PageToken.size(request.pageSize)
    let cursor = try PageToken.cursor(request.pageToken, listing: "groups:\(tenantID)")
    let requestedMember: String? = request.memberUserID.isEmpty ? nil : Access.resolveSelf(request.memberUserID, principal)
    let rows = try await env.read { reader -> [Group] in
      var member = requestedMember
      if principal.isGuest {
        guard let scoped = try GuestVisibility(reader: reader, principal: principal, tenantID: tenantID).scopedUserFilter(member) else {
          return []
        }
        member = scoped
      }
      return try reader.groups(tenantID: tenantID, memberUserID: member, after: cursor, limit: size + 1)
    }
    let page = PageToken.page(rows, size: size, listing: "groups:\(tenantID)") { $0.id }
    return ListGroupsResponse(groups: page.items, nextPageToken: page.next)
  }

  public func addGroupMember(request: AddGroupMemberRequest, context: ServerContext) async throws -> AddGroupMemberResponse {
    let changed = try await changeMembership(
      tenantID: request.tenantID, resourceID: request.groupID, userID: request.userID, context: context, kind: .group, adding: true)
    return AddGroupMemberResponse(changed: changed)
  }

  public func removeGroupMember(request: RemoveGroupMemberRequest, context: ServerContext) async throws -> RemoveGroupMemberResponse {
    let changed = try await changeMembership(
      tenantID: request.tenantID, resourceID: request.groupID, userID: request.userID, context: context, kind: .group, adding: false)
    return RemoveGroupMemberResponse(changed: changed)
  }

  public func createApplication(request: CreateApplicationRequest, context: ServerContext) async throws -> Application {
    try await createResource(
      .application, tenantID: request.tenantID, displayName: request.displayName, description: request.description,
      idempotencyKey: request.idempotencyKey, request: request, context: context
    ) { writer, id, tenantID, name, description, now in
      let application = Application(id: id, tenantID: tenantID, displayName: name, description: description, createdAt: now)
      try writer.insertApplication(application)
      return application
    }
  }

  public func listApplications(request: ListApplicationsRequest, context: ServerContext) async throws -> ListApplicationsResponse {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    let size = try PageToken.size(request.pageSize)
    let cursor = try PageToken.cursor(request.pageToken, listing: "applications:\(tenantID)")
    let requestedAssigned: String? = request.assignedUserID.isEmpty ? nil : Access.resolveSelf(request.assignedUserID, principal)
    let rows = try await env.read { reader -> [Application] in
      var assigned = requestedAssigned
      if principal.isGuest {
        guard let scoped = try GuestVisibility(reader: reader, principal: principal, tenantID: tenantID).scopedUserFilter(assigned) else {
          return []
        }
        assigned = scoped
      }
      return try reader.applications(tenantID: tenantID, assignedUserID: assigned, after: cursor, limit: size + 1)
    }
    let page = PageToken.page(rows, size: size, listing: "applications:\(tenantID)") { $0.id }
    return ListApplicationsResponse(applications: page.items, nextPageToken: page.next)
  }

  public func assignApplication(request: AssignApplicationRequest, context: ServerContext) async throws -> AssignApplicationResponse {
    let changed = try await changeMembership(
      tenantID: request.tenantID, resourceID: request.applicationID, userID: request.userID, context: context, kind: .application,
      adding: true)
    return AssignApplicationResponse(changed: changed)
  }

  public func unassignApplication(request: UnassignApplicationRequest, context: ServerContext) async throws -> UnassignApplicationResponse {
    let changed = try await changeMembership(
      tenantID: request.tenantID, resourceID: request.applicationID, userID: request.userID, context: context, kind: .application,
      adding: false)
    return UnassignApplicationResponse(changed: changed)
  }

  enum MembershipKind {
    case group, application

    /// The id prefix, audit action and target type of a new resource, and the method idempotency keys are scoped to.
    var creation: (prefix: String, action: AuditAction, target: DirectoryObjectType, method: String) {
      switch self {
      case .group: ("grp_", .groupCreated, .group, "CreateGroup")
      case .application: ("app_", .applicationCreated, .application, "CreateApplication")
      }
    }
  }

  /// CreateGroup and CreateApplication: an admin of the tenant, a valid name
  /// and description, an idempotency key; `insert` stores the new resource
  /// (given its new id), audited in the same transaction.
  private func createResource<Request: ProtoMessage & Sendable, Resource: ProtoMessage & Sendable>(
    _ kind: MembershipKind, tenantID requested: String, displayName: String, description: String, idempotencyKey: String,
    request: Request, context: ServerContext,
    insert: @escaping @Sendable (
      _ writer: any DirectoryWriter, _ id: String, _ tenantID: String, _ name: String, _ description: String, _ now: Int64
    ) throws -> Resource
  ) async throws -> Resource {
    let principal = try context.principal()
    let tenantID = try Access.tenant(requested, principal)
    try Access.requireAdmin(principal)
    let name = try Validation.displayName(displayName)
    let description = try Validation.text(description, field: "description")
    let key = try Validation.idempotencyKey(idempotencyKey)
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    let creation = kind.creation
    return try await env.write { writer, events in
      try Idempotency.run(writer, key: key, scope: "\(principal.actorID)|\(creation.method)", request: request, now: now) {
        guard try writer.tenant(id: tenantID) != nil else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
        let id = Secrets.newID(prefix: creation.prefix)
        let resource = try insert(writer, id, tenantID, name, description, now)
        try audit.record(writer, &events, tenantID: tenantID, action: creation.action, targetType: creation.target, targetID: id)
        return resource
      }
    }
  }

  private func changeMembership(
    tenantID requested: String, resourceID: String, userID: String, context: ServerContext, kind: MembershipKind, adding: Bool
  ) async throws -> Bool {
    let principal = try context.principal()
    let tenantID = try Access.tenant(requested, principal)
    try Access.requireAdmin(principal)
    let field = kind == .group ? "group_id" : "application_id"
    let resourceID = try Validation.id(resourceID, field: field)
    let userID = try Validation.id(userID, field: "user_id")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      switch kind {
      case .group:
        guard try writer.group(tenantID: tenantID, id: resourceID) != nil else { throw RPCError.notFound(kind: "group", id: resourceID) }
      case .application:
        guard try writer.application(tenantID: tenantID, id: resourceID) != nil else { throw RPCError.notFound(
          kind: "application", id: resourceID) }
      }
      guard let user = try writer.user(tenantID: tenantID, id: userID) else { throw RPCError.notFound(kind: "user", id: userID) }
      if adding && user.deletedAt != 0 {
        throw RPCError.failedPrecondition("the user was removed; restore it first", reason: .userRemoved)
      }
      let changed: Bool
      switch (kind, adding) {
      case (.group, true): changed = try writer.addMember(groupID: resourceID, userID: userID)
      case (.group, false): changed = try writer.removeMember(groupID: resourceID, userID: userID)
      case (.application, true): changed = try writer.assign(applicationID: resourceID, userID: userID)
      case (.application, false): changed = try writer.unassign(applicationID: resourceID, userID: userID)
      }
      if changed {
        let action: AuditAction = switch (kind, adding) {
        case (.group, true): .groupMemberAdded
        case (.group, false): .groupMemberRemoved
        case (.application, true): .applicationAssigned
        case (.application, false): .applicationUnassigned
        }
        try audit.record(writer, &events, tenantID: tenantID, action: action, targetType: kind == .group ? .group : .application,
                         targetID: resourceID, details: ["user_id": userID])
      }
      return changed
    }
  }
}
