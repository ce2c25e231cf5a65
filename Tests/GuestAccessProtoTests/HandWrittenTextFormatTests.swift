import GuestAccessProto
import Testing

/// Hand-written text-format messages, encoded by `protoc --encode`, must
/// decode with our codec to exactly the expected Swift values, and our
/// encoding of those values must be byte-for-byte protoc's.
@Suite struct HandWrittenTextFormatTests {
  @Test func callHeaders() async throws {
    try await check(
      """
      method: "/guestaccess.v1.InvitationService/CreateInvitation"
      metadata { key: "authorization" value: "Bearer gak_live_0123456789" }
      metadata { key: "tenant" value: "contoso.onmicrosoft" }
      metadata { key: "trace-bin" binary_value: "\\000\\001\\377\\n" }
      metadata { key: "tenant" value: "second value of a repeated key" }
      timeout_micros: 18446744073709551615
      """,
      CallHeaders(
        method: "/guestaccess.v1.InvitationService/CreateInvitation",
        metadata: [
          MetadataEntry(key: "authorization", value: "Bearer gak_live_0123456789"),
          MetadataEntry(key: "tenant", value: "contoso.onmicrosoft"),
          MetadataEntry(key: "trace-bin", binaryValue: [0, 1, 0xFF, 0x0A]),
          MetadataEntry(key: "tenant", value: "second value of a repeated key"),
        ],
        timeoutMicros: .max))
  }

  @Test func trailers() async throws {
    try await check(
      """
      code: 8
      message: "invitation rate limit exceeded for tenant contoso"
      error_info {
        reason: "INVITE_RATE_LIMITED"
        domain: "guestaccess.v1"
        metadata { key: "limit" value: "100/h" }
      }
      retry_info { retry_delay_millis: 30000 }
      field_violations { field: "invited_email" description: "not an email address" }
      field_violations { field: "grants.group_ids[2]" description: "no such group" }
      metadata { key: "request-id" value: "req-7f3a" }
      """,
      Trailers(
        code: 8,
        message: "invitation rate limit exceeded for tenant contoso",
        errorInfo: ErrorInfo(
          reason: "INVITE_RATE_LIMITED", domain: "guestaccess.v1",
          metadata: [MetadataEntry(key: "limit", value: "100/h")]),
        retryInfo: RetryInfo(retryDelayMillis: 30000),
        fieldViolations: [
          FieldViolation(field: "invited_email", description: "not an email address"),
          FieldViolation(field: "grants.group_ids[2]", description: "no such group"),
        ],
        metadata: [MetadataEntry(key: "request-id", value: "req-7f3a")]))
  }

  @Test func okTrailersAreEmpty() async throws {
    try await check("code: 0", Trailers())
    #expect(Trailers().serializedBytes().isEmpty)
  }

  @Test func goAway() async throws {
    try await check(
      #"last_call_id: 4294967295 code: 14 message: "server shutting down""#,
      GoAway(lastCallID: .max, code: 14, message: "server shutting down"))
  }

  @Test func invitation() async throws {
    try await check(
      """
      id: "inv_01HZX"
      tenant_id: "tn_woodgrove"
      invited_email: "gcarvalho@proseware.com"
      invited_display_name: "Gabriel Carvalho — Proseware ✓"
      invited_user_type: USER_TYPE_GUEST
      redirect_url: "https://apps.woodgrove.example/welcome"
      redeem_url: "https://guestaccess.woodgrove.example/redeem?ticket=t0p53cr3t"
      send_invitation_message: true
      message_info {
        cc_recipient: "sponsor@woodgrove.example"
        customized_message_body: "Welcome aboard.\\nSee you Monday."
        message_language: "pt-BR"
      }
      invited_by: "usr_admin"
      grants {
        group_ids: "grp_project_x"
        group_ids: "grp_contractors"
        application_ids: "app_wiki"
      }
      status: INVITATION_STATUS_PENDING_ACCEPTANCE
      expires_at: 1767225600000
      guest_user_id: "usr_guest_42"
      created_at: 1766620800000
      redeemed_at: 0
      revoked_at: -1
      idempotency_key: "create-42"
      email_delivery {
        status: EMAIL_DELIVERY_STATUS_QUEUED
        attempts: 2
        failure_reason: "451 try again later"
        last_attempt_at: 1766620860000
        next_attempt_at: 1766620920000
      }
      """,
      Invitation(
        id: "inv_01HZX",
        tenantID: "tn_woodgrove",
        invitedEmail: "gcarvalho@proseware.com",
        invitedDisplayName: "Gabriel Carvalho — Proseware ✓",
        invitedUserType: .guest,
        redirectURL: "https://apps.woodgrove.example/welcome",
        redeemURL: "https://guestaccess.woodgrove.example/redeem?ticket=t0p53cr3t",
        sendInvitationMessage: true,
        messageInfo: InvitationMessageInfo(
          ccRecipient: "sponsor@woodgrove.example",
          customizedMessageBody: "Welcome aboard.\nSee you Monday.",
          messageLanguage: "pt-BR"),
        invitedBy: "usr_admin",
        grants: InvitationGrants(groupIDs: ["grp_project_x", "grp_contractors"], applicationIDs: ["app_wiki"]),
        status: .pendingAcceptance,
        expiresAt: 1_767_225_600_000,
        guestUserID: "usr_guest_42",
        createdAt: 1_766_620_800_000,
        redeemedAt: 0,
        revokedAt: -1,
        idempotencyKey: "create-42",
        emailDelivery: InvitationEmailDelivery(
          status: .queued, attempts: 2, failureReason: "451 try again later",
          lastAttemptAt: 1_766_620_860_000, nextAttemptAt: 1_766_620_920_000)))
  }

  @Test func guestUserWithPackedEnumsAndUnknownEnumNumbers() async throws {
    var user = User()
    user.id = "usr_guest_42"
    user.tenantID = "tn_woodgrove"
    user.userType = .unrecognized(77)
    user.displayName = "Gabriel"
    user.roles = [.globalAdmin, .unrecognized(42), .userAdmin]
    user.accountEnabled = true
    user.createdAt = -9_223_372_036_854_775_808
    user.externalUserState = .accepted
    user.creationType = .invitation
    user.identities = [
      Identity(signInType: .homeTenant, issuer: "tn_proseware", issuerAssignedID: "usr_7"),
      Identity(signInType: .unrecognized(-3), issuer: "", issuerAssignedID: ""),
    ]
    user.sponsors = ["usr_admin", "usr_pm"]
    try await check(
      """
      id: "usr_guest_42"
      tenant_id: "tn_woodgrove"
      user_type: 77
      display_name: "Gabriel"
      roles: ROLE_GLOBAL_ADMIN
      roles: 42
      roles: ROLE_USER_ADMIN
      account_enabled: true
      created_at: -9223372036854775808
      external_user_state: EXTERNAL_USER_STATE_ACCEPTED
      creation_type: CREATION_TYPE_INVITATION
      identities { sign_in_type: SIGN_IN_TYPE_HOME_TENANT issuer: "tn_proseware" issuer_assigned_id: "usr_7" }
      identities { sign_in_type: -3 }
      sponsors: "usr_admin"
      sponsors: "usr_pm"
      """,
      user)
  }

  @Test func healthCheck() async throws {
    try await check(#"service: "guestaccess.v1.InvitationService""#, HealthCheckRequest(service: "guestaccess.v1.InvitationService"))
    try await check("status: SERVING_STATUS_NOT_SERVING", HealthCheckResponse(status: .notServing))
  }

  /// protoc encodes `text` as `M`; our decoder must produce `expected`, and
  /// our encoder must produce protoc's exact bytes.
  private func check<M: ProtoMessage>(_ text: String, _ expected: M, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let bytes = try await Protoc.encode(M.protoName, text: text)
    let decoded = try M(serializedBytes: bytes)
    #expect(decoded == expected, sourceLocation: sourceLocation)
    #expect(expected.serializedBytes() == bytes, "our encoding differs from protoc's", sourceLocation: sourceLocation)
  }
}
