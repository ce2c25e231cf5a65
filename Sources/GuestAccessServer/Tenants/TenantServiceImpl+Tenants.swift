import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  public func createTenant(request: CreateTenantRequest, context: ServerContext) async throws -> CreateTenantResponse {
    let principal = try context.principal()
    try Access.requireOperator(principal)
    let name = try Validation.displayName(request.displayName)
    let domains = try Self.domains(request.verifiedDomains)
    let adminMail = try Validation.email(request.adminMail, field: "admin_mail")
    let adminName = request.adminDisplayName.isEmpty ? adminMail : try Validation.displayName(request.adminDisplayName, field: "admin_display_name")
    let key = try Validation.idempotencyKey(request.idempotencyKey)
    let now = env.clock.nowMillis()
    var settings = Self.defaultSettings(tenantID: "")
    if request.settings != TenantSettings() {
      settings = try Self.merge(request.settings, into: settings, mask: ["*"])
    }
    let secret = Secrets.newSecret(prefix: "gak_")
    let audit = AuditRecorder(principal, context: context, now: now)
    let initialSettings = settings
    return try await env.write { writer, events in
      var settings = initialSettings
      return try Idempotency.run(
        writer, key: key, scope: "\(principal.actorID)|CreateTenant", request: request, now: now,
        redact: { var response = $0; response.adminSecret = ""; return response }
      ) {
        let tenant = Tenant(
          id: Secrets.newID(prefix: "ten_"), displayName: name, verifiedDomains: domains, state: .active, createdAt: now, updatedAt: now)
        try writer.putTenant(tenant)
        do {
          try writer.setDomains(tenantID: tenant.id, domains: domains)
        } catch StoreError.conflict(let what) {
          throw RPCError.alreadyExists(what, reason: .domainTaken)
        }
        settings.tenantID = tenant.id
        settings.updatedAt = now
        settings.updatedBy = principal.actorID
        try writer.putSettings(settings)
        var admin = User(
          id: Secrets.newID(prefix: "usr_"), tenantID: tenant.id, userType: .member, displayName: adminName, mail: adminMail,
          roles: [.globalAdmin], accountEnabled: true, createdAt: now, updatedAt: now)
        admin.mailVerified = VerifiedMail.isVerified(admin, tenantDomains: domains)
        try writer.insertUser(admin)
        let credential = Credential(
          id: Secrets.newID(prefix: "key_"), tenantID: tenant.id, principalType: .user, userID: admin.id,
          displayName: "initial admin credential", secretHint: String(secret.prefix(8)), state: .active, createdAt: now,
          createdBy: principal.actorID)
        try writer.insertCredential(credential, secretHash: Secrets.hash(secret))
        try audit.record(writer, &events, tenantID: tenant.id, action: .tenantCreated, targetType: .tenant, targetID: tenant.id,
                         details: ["display_name": name, "verified_domains": domains.joined(separator: ",")])
        try audit.record(writer, &events, tenantID: tenant.id, action: .userCreated, targetType: .user, targetID: admin.id,
                         details: ["roles": "GLOBAL_ADMIN"])
        try audit.record(writer, &events, tenantID: tenant.id, action: .credentialIssued, targetType: .credential,
                         targetID: credential.id, details: ["user_id": admin.id])
        return CreateTenantResponse(tenant: tenant, admin: admin, adminCredential: credential, adminSecret: secret)
      }
    }
  }

  public func getTenant(request: GetTenantRequest, context: ServerContext) async throws -> Tenant {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    let tenant = try await env.read { try $0.tenant(id: tenantID) }
    guard let tenant else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
    if principal.isGuest { return Tenant(id: tenant.id, displayName: tenant.displayName) }
    return tenant
  }

  public func listTenants(request: ListTenantsRequest, context: ServerContext) async throws -> ListTenantsResponse {
    let principal = try context.principal()
    try Access.requireOperator(principal)
    let size = try PageToken.size(request.pageSize)
    let cursor = try PageToken.cursor(request.pageToken, listing: "tenants")
    let state: TenantState? = request.state == .unspecified ? nil : request.state
    let domain = request.verifiedDomain.isEmpty ? nil : try Validation.domain(request.verifiedDomain, field: "verified_domain")
    let rows = try await env.read { try $0.tenants(after: cursor, limit: size + 1, state: state, domain: domain) }
    let page = PageToken.page(rows, size: size, listing: "tenants") { $0.id }
    return ListTenantsResponse(tenants: page.items, nextPageToken: page.next)
  }

  public func updateTenant(request: UpdateTenantRequest, context: ServerContext) async throws -> Tenant {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    let known = ["display_name", "verified_domains", "state"]
    let mask = request.updateMask.contains("*") ? known : request.updateMask
    guard !mask.isEmpty else { throw RPCError.invalidArgument(field: "update_mask", "name the fields to change") }
    for field in mask where !known.contains(field) {
      throw RPCError.invalidArgument(field: "update_mask", "unknown field \(field.prefix(64))")
    }
    if !principal.isOperator && mask.contains(where: { $0 != "display_name" }) {
      throw RPCError.permissionDenied("only the operator may change verified domains or state")
    }
    let name = mask.contains("display_name") ? try Validation.displayName(request.displayName) : nil
    let domains = mask.contains("verified_domains") ? try Self.domains(request.verifiedDomains) : nil
    if mask.contains("state"), request.state != .active && request.state != .disabled {
      throw RPCError.invalidArgument(field: "state", "must be ACTIVE or DISABLED")
    }
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var tenant = try writer.tenant(id: tenantID) else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      if let name { tenant.displayName = name }
      if let domains {
        do {
          try writer.setDomains(tenantID: tenantID, domains: domains)
        } catch StoreError.conflict(let what) {
          throw RPCError.alreadyExists(what, reason: .domainTaken)
        }
        tenant.verifiedDomains = domains
        try VerifiedMail.refresh(tenantID: tenantID, domains: domains, writer: writer)
      }
      if mask.contains("state") && tenant.state != request.state {
        tenant.state = request.state
        tenant.disabledAt = request.state == .disabled ? now : 0
      }
      tenant.updatedAt = now
      try writer.putTenant(tenant)
      try audit.record(writer, &events, tenantID: tenantID, action: .tenantUpdated, targetType: .tenant, targetID: tenantID,
                       details: ["fields": mask.joined(separator: ",")])
      return tenant
    }
  }

  public func disableTenant(request: DisableTenantRequest, context: ServerContext) async throws -> Tenant {
    let principal = try context.principal()
    try Access.requireOperator(principal)
    let tenantID = try Validation.id(request.tenantID, field: "tenant_id")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard var tenant = try writer.tenant(id: tenantID) else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      guard tenant.state != .disabled else { return tenant }
      tenant.state = .disabled
      tenant.disabledAt = now
      tenant.updatedAt = now
      try writer.putTenant(tenant)
      try audit.record(writer, &events, tenantID: tenantID, action: .tenantDisabled, targetType: .tenant, targetID: tenantID)
      return tenant
    }
  }

  static func domains(_ values: [String]) throws(RPCError) -> [String] {
    guard values.count <= 100 else { throw RPCError.invalidArgument(field: "verified_domains", "at most 100 domains") }
    var result: [String] = []
    for (index, value) in values.enumerated() {
      let domain = try Validation.domain(value, field: "verified_domains[\(index)]")
      if !result.contains(domain) { result.append(domain) }
    }
    return result
  }
}
