import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  public func createIdentityProvider(request: CreateIdentityProviderRequest, context: ServerContext) async throws -> IdentityProvider {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    var provider = try IdentityProviderRules.validated(request.provider, allowHTTPLoopback: env.allowHTTPLoopbackIssuers)
    let now = env.clock.nowMillis()
    provider.id = Secrets.newID(prefix: "idp_")
    provider.tenantID = tenantID
    provider.createdAt = now
    provider.updatedAt = now
    provider.updatedBy = principal.actorID
    let sealed = env.hasher.seal(provider.oidc.clientSecret, purpose: IdentityProviderRules.secretPurpose)
    let stored = StoredIdentityProvider(provider: provider, sealedSecret: sealed)
    let audit = AuditRecorder(principal, context: context, now: now)
    return try await env.write { writer, events in
      guard try writer.tenant(id: tenantID) != nil else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      let others = try writer.identityProviders(tenantID: tenantID).map(\.provider)
      guard others.count < IdentityProviderRules.maximumPerTenant else {
        throw RPCError(code: .resourceExhausted, message: "at most \(IdentityProviderRules.maximumPerTenant) identity providers per tenant")
      }
      try IdentityProviderRules.checkConflicts(stored.provider, others: others)
      try writer.putIdentityProvider(stored)
      try audit.record(writer, &events, tenantID: tenantID, action: .identityProviderCreated, targetType: .identityProvider,
                       targetID: stored.provider.id, details: Self.auditDetails(stored.provider))
      return stored.provider
    }
  }

  public func getIdentityProvider(request: GetIdentityProviderRequest, context: ServerContext) async throws -> IdentityProvider {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireAdmin(principal)
    let id = try Validation.id(request.id, field: "id")
    return try await env.read { reader in
      guard let stored = try reader.identityProvider(tenantID: tenantID, id: id) else { throw RPCError.notFound(kind: "identity provider", id: id) }
      return stored.provider
    }
  }

  public func listIdentityProviders(request: ListIdentityProvidersRequest, context: ServerContext) async throws -> ListIdentityProvidersResponse {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireAdmin(principal)
    return try await env.read { reader in
      guard try reader.tenant(id: tenantID) != nil else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      return ListIdentityProvidersResponse(providers: try reader.identityProviders(tenantID: tenantID).map(\.provider))
    }
  }

  public func updateIdentityProvider(request: UpdateIdentityProviderRequest, context: ServerContext) async throws -> IdentityProvider {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    let id = try Validation.id(request.provider.id, field: "provider.id")
    guard !request.updateMask.isEmpty else { throw RPCError.invalidArgument(field: "update_mask", "name the fields to change") }
    let fields = request.updateMask.contains("*") ? IdentityProviderRules.maskFields : request.updateMask
    for field in fields where !IdentityProviderRules.maskFields.contains(field) {
      throw RPCError.invalidArgument(field: "update_mask", "unknown or unchangeable identity provider field \(field.prefix(64))")
    }
    let update = request.provider
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    let env = self.env
    return try await env.write { writer, events in
      guard let current = try writer.identityProvider(tenantID: tenantID, id: id) else { throw RPCError.notFound(kind: "identity provider", id: id) }
      var merged = current.provider
      for field in fields {
        switch field {
        case "display_name": merged.displayName = update.displayName
        case "domains": merged.domains = update.domains
        case "oidc.issuer": merged.oidc.issuer = update.oidc.issuer
        case "oidc.client_id": merged.oidc.clientID = update.oidc.clientID
        case "oidc.client_secret": merged.oidc.clientSecret = update.oidc.clientSecret
        case "oidc.scopes": merged.oidc.scopes = update.oidc.scopes
        case "oidc.email_claim": merged.oidc.emailClaim = update.oidc.emailClaim
        case "oidc.allowed_algorithms": merged.oidc.allowedAlgorithms = update.oidc.allowedAlgorithms
        default: merged.oidc.accessTokenAudiences = update.oidc.accessTokenAudiences
        }
      }
      var provider = try IdentityProviderRules.validated(merged, allowHTTPLoopback: env.allowHTTPLoopbackIssuers)
      provider.updatedAt = now
      provider.updatedBy = principal.actorID
      let sealed = fields.contains("oidc.client_secret")
        ? env.hasher.seal(provider.oidc.clientSecret, purpose: IdentityProviderRules.secretPurpose) : current.sealedSecret
      let stored = StoredIdentityProvider(provider: provider, sealedSecret: sealed)
      try IdentityProviderRules.checkConflicts(stored.provider, others: try writer.identityProviders(tenantID: tenantID).map(\.provider).filter { $0.id != id })
      try writer.putIdentityProvider(stored)
      var details = Self.auditDetails(stored.provider)
      details["fields"] = fields.joined(separator: ",")
      try audit.record(writer, &events, tenantID: tenantID, action: .identityProviderUpdated, targetType: .identityProvider, targetID: id,
                       details: details)
      return stored.provider
    }
  }

  public func deleteIdentityProvider(request: DeleteIdentityProviderRequest, context: ServerContext) async throws -> IdentityProvider {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    let id = try Validation.id(request.id, field: "id")
    let audit = AuditRecorder(principal, context: context, now: env.clock.nowMillis())
    return try await env.write { writer, events in
      guard let stored = try writer.identityProvider(tenantID: tenantID, id: id), try writer.deleteIdentityProvider(tenantID: tenantID, id: id) else {
        throw RPCError.notFound(kind: "identity provider", id: id)
      }
      try audit.record(writer, &events, tenantID: tenantID, action: .identityProviderDeleted, targetType: .identityProvider, targetID: id,
                       details: Self.auditDetails(stored.provider))
      return stored.provider
    }
  }

  /// What the audit log says of a provider: never its client secret.
  private static func auditDetails(_ provider: IdentityProvider) -> [String: String] {
    ["issuer": provider.oidc.issuer, "use": provider.use.protoName, "domains": provider.domains.joined(separator: ",")]
  }
}
