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
        guard let user = try writer.user(tenantID: tenantID, id: userID) else { throw RPCError.notFound(kind: "user", id: userID) }
        guard user.deletedAt == 0 else { throw RPCError.failedPrecondition("the user was removed", reason: .userRemoved) }
        // Guests and external members redeemed with a home credential keep using it: a key of
        // their own here would outlive their home account, its block and the partner's rules.
        if user.identities.contains(where: { $0.signInType == .homeTenant }) {
          throw RPCError.failedPrecondition("a user with a home tenant signs in with its home credential", reason: .guestHasHomeTenant)
        }
        if !isSelf && Self.isAdmin(user) && !principal.isOperator && !principal.isGlobalAdmin {
          throw RPCError.permissionDenied("keys for an admin need GLOBAL_ADMIN")
        }
        var expiresAt = request.expiresInSeconds == 0 ? Int64(0) : now + request.expiresInSeconds * 1000
        if user.accessExpiresAt != 0 && (expiresAt == 0 || expiresAt > user.accessExpiresAt) { expiresAt = user.accessExpiresAt }
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
    return try await env.write { writer, events in
      guard var credential = try writer.credential(tenantID: tenantID, id: credentialID) else {
        throw RPCError.notFound(kind: "credential", id: credentialID)
      }
      if credential.principalType == .operator {
        try Access.requireOperator(principal)
      } else if credential.userID != principal.actingUser?.id {
        try Access.requireAdmin(principal)
        if let owner = try writer.user(tenantID: tenantID, id: credential.userID),
          Self.isAdmin(owner), !principal.isOperator, !principal.isGlobalAdmin
        {
          throw RPCError.permissionDenied("an admin's key needs GLOBAL_ADMIN to revoke")
        }
      }
      guard credential.revokedAt == 0 else { return Self.withState(credential, now: now) }
      if credential.principalType == .operator {
        let others = try writer.credentials(tenantID: "", userID: nil, after: "", limit: 10_000).filter {
          $0.id != credentialID && $0.revokedAt == 0 && ($0.expiresAt == 0 || $0.expiresAt > now)
        }
        guard !others.isEmpty else {
          throw RPCError.failedPrecondition("the last active operator credential cannot be revoked", reason: .lastOperatorCredential)
        }
      }
      credential.revokedAt = now
      credential.state = .revoked
      try writer.updateCredential(credential)
      try audit.record(writer, &events, tenantID: tenantID, action: .credentialRevoked, targetType: .credential, targetID: credentialID)
      return credential
    }
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
    let rows = try await env.read { reader in
      try reader.credentials(tenantID: tenantID, userID: filterUser, after: cursor, limit: size + 1)
    }
    let page = PageToken.page(rows, size: size, listing: listing) { $0.id }
    let items = page.items.map { Self.withState($0, now: now) }.filter { wanted == .unspecified || $0.state == wanted }
    return ListCredentialsResponse(credentials: items, nextPageToken: page.next)
  }

  static func withState(_ credential: Credential, now: Int64) -> Credential {
    var credential = credential
    credential.state = credential.revokedAt != 0 ? .revoked : (credential.expiresAt != 0 && credential.expiresAt <= now) ? .expired : .active
    return credential
  }
}
