import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  /// The grace period when a rotation names none: one day.
  static let defaultRotationGraceSeconds: Int64 = 86_400
  /// The longest grace period: 30 days.
  static let maxRotationGraceSeconds: Int64 = 30 * 86_400

  public func rotateCredential(request: RotateCredentialRequest, context: ServerContext) async throws -> RotateCredentialResponse {
    let principal = try context.principal()
    let key = try Validation.idempotencyKey(request.idempotencyKey)
    let credentialID = try Validation.id(request.credentialID, field: "credential_id")
    guard (0...Self.maxRotationGraceSeconds).contains(request.gracePeriodSeconds) else {
      throw RPCError.invalidArgument(field: "grace_period_seconds", "must be 0 (one day) to 2592000 (30 days)")
    }
    guard request.expiresInSeconds >= 0, request.expiresInSeconds <= 10 * 365 * 86_400 else {
      throw RPCError.invalidArgument(field: "expires_in_seconds", "must be 0 (the replaced key's lifetime) to 10 years")
    }
    let grace = request.gracePeriodSeconds == 0 ? Self.defaultRotationGraceSeconds : request.gracePeriodSeconds
    let tenantID = principal.isOperator ? request.tenantID : try Access.tenant(request.tenantID, principal)
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    let secret = Secrets.newSecret(prefix: "gak_")
    let response = try await env.write { writer, events -> RotateCredentialResponse in
      try Idempotency.run(
        writer, key: key, scope: "\(principal.actorID)|RotateCredential", request: request, now: now,
        redact: { (response: RotateCredentialResponse) in var response = response; response.secret = ""; return response }
      ) { () throws -> RotateCredentialResponse in
        var old = try Self.managedCredential(writer, tenantID: tenantID, id: credentialID, principal: principal, verb: "rotate")
        let lifetime = try Self.lifetime(writer, of: old)
        guard old.revokeAt == 0 else {
          throw RPCError.failedPrecondition("the credential was already rotated (replaced by \(old.replacedBy))", reason: .credentialAlreadyRotated)
        }
        guard lifetime.isActive(old, now: now) else {
          throw RPCError.failedPrecondition("only an active credential can be rotated", reason: .credentialNotActive)
        }
        let ownLifetime = old.expiresAt == 0 ? Int64(0) : max(old.expiresAt - old.createdAt, 1000)
        let requested = request.expiresInSeconds != 0 ? now + request.expiresInSeconds * 1000 : ownLifetime == 0 ? 0 : now + ownLifetime
        var expiresAt = requested
        if old.principalType == .user {
          let owner = try Self.keyOwner(writer, tenantID: old.tenantID, userID: old.userID)
          expiresAt = try Self.keyExpiry(writer, requested: requested, owner: owner, now: now)
        }
        let new = Credential(
          id: Secrets.newID(prefix: "key_"), tenantID: old.tenantID, principalType: old.principalType, userID: old.userID,
          displayName: old.displayName, secretHint: String(secret.prefix(8)), state: .active, createdAt: now,
          createdBy: principal.actorID, expiresAt: expiresAt, clientCertificateIdentity: old.clientCertificateIdentity,
          replaces: old.id)
        try writer.insertCredential(new, secretHash: Secrets.hash(secret))
        old.revokeAt = now + grace * 1000
        old.replacedBy = new.id
        try writer.updateCredential(old)
        var issued = ["replaces": old.id]
        if !old.userID.isEmpty { issued["user_id"] = old.userID }
        if !new.clientCertificateIdentity.isEmpty { issued["client_certificate_identity"] = new.clientCertificateIdentity }
        try audit.record(writer, &events, tenantID: old.tenantID, action: .credentialIssued, targetType: .credential, targetID: new.id,
                         details: issued)
        try audit.record(writer, &events, tenantID: old.tenantID, action: .credentialRotated, targetType: .credential, targetID: old.id,
                         details: ["replaced_by": new.id, "revoke_at": String(old.revokeAt)])
        return RotateCredentialResponse(
          credential: lifetime.presented(new, now: now), secret: secret, replaced: lifetime.presented(old, now: now))
      }
    }
    if OperatorBootstrap.isBootstrap(response.replaced) { OperatorBootstrap.removeKeyFile(env.operatorKeyFile, logger: env.logger) }
    return response
  }

  public func retireBootstrapCredential(
    request: RetireBootstrapCredentialRequest, context: ServerContext
  ) async throws -> RetireBootstrapCredentialResponse {
    let principal = try context.principal()
    try Access.requireOperator(principal)
    let reason = request.reason.isEmpty ? "bootstrap key retired" : try Validation.displayName(request.reason, field: "reason")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    let revoked = try await env.write { writer, events -> [Credential] in
      let bootstrap = try writer.credentials(tenantID: "", userID: nil, after: "", limit: 10_000).filter {
        OperatorBootstrap.isBootstrap($0) && $0.revokedAt == 0
      }
      guard !bootstrap.isEmpty else { return [] }
      try Self.requireOtherOperatorKey(writer, excluding: Set(bootstrap.map(\.id)), now: now)
      return try bootstrap.map { credential in
        var credential = credential
        credential.revokedAt = now
        try writer.updateCredential(credential)
        try audit.record(writer, &events, tenantID: "", action: .credentialRevoked, targetType: .credential, targetID: credential.id,
                         details: ["principal_type": "operator", "reason": reason])
        return CredentialLifetime.unlimited.presented(credential, now: now)
      }
    }
    let removed = OperatorBootstrap.removeKeyFile(env.operatorKeyFile, logger: env.logger)
    return RetireBootstrapCredentialResponse(revoked: revoked, keyFileRemoved: removed)
  }
}
