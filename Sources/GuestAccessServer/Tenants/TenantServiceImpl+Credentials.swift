import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  public func issueCredential(request: IssueCredentialRequest, context: ServerContext) async throws -> IssueCredentialResponse {
    let principal = try context.principal()
    let key = try Validation.idempotencyKey(request.idempotencyKey)
    let label = request.displayName.isEmpty ? "" : try Validation.displayName(request.displayName)
    guard request.expiresInSeconds >= 0, request.expiresInSeconds <= 10 * 365 * 86_400 else {
      throw RPCError.invalidArgument(field: "expires_in_seconds", "must be 0 (never) to 10 years")
    }
    let certificateIdentity = try Validation.certificateIdentity(request.clientCertificateIdentity)
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    let secret = Secrets.newSecret(prefix: "gak_")
    if request.principalType == .operator {
      try Access.requireOperator(principal)
      return try await env.write { writer, events in
        try Idempotency.run(
          writer, key: key, scope: "\(principal.actorID)|IssueCredential", request: request, now: now,
          redact: { var response = $0; response.secret = ""; return response }
        ) {
          let credential = Credential(
            id: Secrets.newID(prefix: "key_"), principalType: .operator, displayName: label, secretHint: String(secret.prefix(8)),
            state: .active, createdAt: now, createdBy: principal.actorID,
            expiresAt: request.expiresInSeconds == 0 ? 0 : now + request.expiresInSeconds * 1000,
            clientCertificateIdentity: certificateIdentity)
          try writer.insertCredential(credential, secretHash: Secrets.hash(secret))
          try audit.record(writer, &events, tenantID: "", action: .credentialIssued, targetType: .credential, targetID: credential.id,
                           details: certificateIdentity.isEmpty ? [:] : ["client_certificate_identity": certificateIdentity])
          return IssueCredentialResponse(credential: credential, secret: secret)
        }
      }
    }
    guard request.principalType == .user || request.principalType == .unspecified else {
      throw RPCError.invalidArgument(field: "principal_type", "must be USER or OPERATOR")
    }
    let tenantID = try Access.tenant(request.tenantID, principal)
    let userID = request.userID.isEmpty ? principal.actingUser?.id ?? "" : request.userID
    guard !userID.isEmpty else { throw RPCError.invalidArgument(field: "user_id", "is required for the operator") }
    let isSelf = userID == principal.actingUser?.id
    if !isSelf { try Access.requireAdmin(principal) }
    return try await env.write { writer, events in
      try Idempotency.run(
        writer, key: key, scope: "\(principal.actorID)|IssueCredential", request: request, now: now,
        redact: { var response = $0; response.secret = ""; return response }
      ) {
        let user = try Self.keyOwner(writer, tenantID: tenantID, userID: userID)
        if !isSelf && Self.isAdmin(user) && !principal.isOperator && !principal.isGlobalAdmin {
          throw RPCError.permissionDenied("keys for an admin need GLOBAL_ADMIN")
        }
        let requested = request.expiresInSeconds == 0 ? Int64(0) : now + request.expiresInSeconds * 1000
        let expiresAt = try Self.keyExpiry(writer, requested: requested, owner: user, now: now)
        let credential = Credential(
          id: Secrets.newID(prefix: "key_"), tenantID: tenantID, principalType: .user, userID: userID, displayName: label,
          secretHint: String(secret.prefix(8)), state: .active, createdAt: now, createdBy: principal.actorID, expiresAt: expiresAt,
          clientCertificateIdentity: certificateIdentity)
        try writer.insertCredential(credential, secretHash: Secrets.hash(secret))
        var details = ["user_id": userID]
        if !certificateIdentity.isEmpty { details["client_certificate_identity"] = certificateIdentity }
        try audit.record(writer, &events, tenantID: tenantID, action: .credentialIssued, targetType: .credential, targetID: credential.id,
                         details: details)
        return IssueCredentialResponse(credential: credential, secret: secret)
      }
    }
  }

  public func revokeCredential(request: RevokeCredentialRequest, context: ServerContext) async throws -> Credential {
    let principal = try context.principal()
    let credentialID = try Validation.id(request.credentialID, field: "credential_id")
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    let tenantID = principal.isOperator ? request.tenantID : try Access.tenant(request.tenantID, principal)
    let revoked = try await env.write { writer, events -> Credential in
      var credential = try Self.managedCredential(writer, tenantID: tenantID, id: credentialID, principal: principal, verb: "revoke")
      let lifetime = try Self.lifetime(writer, of: credential)
      guard !CredentialLifetime.isRevoked(credential, now: now) else { return lifetime.presented(credential, now: now) }
      if credential.principalType == .operator {
        try Self.requireOtherOperatorKey(writer, excluding: [credentialID], now: now)
      }
      credential.revokedAt = now
      try writer.updateCredential(credential)
      try audit.record(writer, &events, tenantID: tenantID, action: .credentialRevoked, targetType: .credential, targetID: credentialID)
      return lifetime.presented(credential, now: now)
    }
    if OperatorBootstrap.isBootstrap(revoked) { OperatorBootstrap.removeKeyFile(env.operatorKeyFile, logger: env.logger) }
    return revoked
  }

  public func listCredentials(request: ListCredentialsRequest, context: ServerContext) async throws -> ListCredentialsResponse {
    let principal = try context.principal()
    let size = try PageToken.size(request.pageSize)
    let operatorKeys = request.principalType == .operator
    if operatorKeys { try Access.requireOperator(principal) }
    let tenantID = operatorKeys ? "" : try Access.tenant(request.tenantID, principal)
    var userID: String? = request.userID.isEmpty ? nil : Access.resolveSelf(request.userID, principal)
    if !principal.isOperator && !principal.isAdmin {
      guard userID == nil || userID == principal.actingUser?.id else {
        throw RPCError.permissionDenied("users may list only their own keys")
      }
      userID = principal.actingUser?.id
    }
    let listing = "credentials:\(tenantID):\(userID ?? "")"
    let cursor = try PageToken.cursor(request.pageToken, listing: listing)
    let now = env.clock.nowMillis()
    let filterUser = userID
    let wanted = request.state
    let (rows, lifetime) = try await env.read { reader in
      (try reader.credentials(tenantID: tenantID, userID: filterUser, after: cursor, limit: size + 1),
       tenantID.isEmpty ? CredentialLifetime.unlimited : CredentialLifetime(settings: try reader.settings(tenantID: tenantID)))
    }
    let page = PageToken.page(rows, size: size, listing: listing) { $0.id }
    let items = page.items.map { lifetime.presented($0, now: now) }.filter { wanted == .unspecified || $0.state == wanted }
    return ListCredentialsResponse(credentials: items, nextPageToken: page.next)
  }

  /// The user a new key is for: present, not removed, and without a home
  /// tenant (guests and external members redeemed with a home credential keep
  /// using it: a key of their own here would outlive their home account, its
  /// block and the partner's rules).
  static func keyOwner(_ reader: any DirectoryReader, tenantID: String, userID: String) throws -> User {
    guard let user = try reader.user(tenantID: tenantID, id: userID) else { throw RPCError.notFound(kind: "user", id: userID) }
    guard user.deletedAt == 0 else { throw RPCError.failedPrecondition("the user was removed", reason: .userRemoved) }
    if user.identities.contains(where: { $0.signInType == .homeTenant }) {
      throw RPCError.failedPrecondition("a user with a home tenant signs in with its home credential", reason: .guestHasHomeTenant)
    }
    return user
  }

  /// The expiry of a new key for `owner` asking for `requested` (0 = never):
  /// never after the owner's access ends nor beyond the tenant's maximum key lifetime.
  static func keyExpiry(_ reader: any DirectoryReader, requested: Int64, owner: User, now: Int64) throws -> Int64 {
    var expiresAt = requested
    if owner.accessExpiresAt != 0 && (expiresAt == 0 || expiresAt > owner.accessExpiresAt) { expiresAt = owner.accessExpiresAt }
    return CredentialLifetime(settings: try reader.settings(tenantID: owner.tenantID)).cap(expiresAt, issuedAt: now)
  }

  /// The lifetime rules of `credential`'s tenant.
  static func lifetime(_ reader: any DirectoryReader, of credential: Credential) throws -> CredentialLifetime {
    credential.principalType == .operator ? .unlimited : CredentialLifetime(settings: try reader.settings(tenantID: credential.tenantID))
  }

  /// A credential the caller may revoke or rotate: operator keys the
  /// operator; a user's key its owner, GLOBAL_ADMIN or USER_ADMIN (an admin's
  /// key needs GLOBAL_ADMIN). Another tenant's key is NOT_FOUND.
  static func managedCredential(
    _ reader: any DirectoryReader, tenantID: String, id: String, principal: Principal, verb: String
  ) throws -> Credential {
    guard let credential = try reader.credential(tenantID: tenantID, id: id) else { throw RPCError.notFound(kind: "credential", id: id) }
    if credential.principalType == .operator {
      try Access.requireOperator(principal)
    } else if credential.userID != principal.actingUser?.id {
      try Access.requireAdmin(principal)
      if let owner = try reader.user(tenantID: tenantID, id: credential.userID),
        isAdmin(owner), !principal.isOperator, !principal.isGlobalAdmin
      {
        throw RPCError.permissionDenied("an admin's key needs GLOBAL_ADMIN to \(verb)")
      }
    }
    return credential
  }

  /// Fails unless an operator key other than `excluded` works now and is not being rotated out.
  static func requireOtherOperatorKey(_ reader: any DirectoryReader, excluding excluded: Set<String>, now: Int64) throws {
    let others = try reader.credentials(tenantID: "", userID: nil, after: "", limit: 10_000).filter {
      !excluded.contains($0.id) && $0.revokeAt == 0 && CredentialLifetime.unlimited.isActive($0, now: now)
    }
    guard !others.isEmpty else {
      throw RPCError.failedPrecondition(
        "the last active operator credential cannot be revoked: issue another operator key first", reason: .lastOperatorCredential)
    }
  }
}
