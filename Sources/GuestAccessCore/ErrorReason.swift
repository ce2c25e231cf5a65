/// A machine-readable error reason: `ErrorInfo.reason` in the domain
/// `ErrorReason.domain`. Clients branch on the status code and the reason,
/// never on the message. docs/ERRORS.md lists every reason with its status
/// code, metadata and cause (a test keeps the two equal).
///
/// A struct rather than an enum: a client reads reasons that a newer server
/// may add; `init(rawValue:)` takes any string, `allCases` lists the ones this
/// version knows.
public struct ErrorReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The domain of every reason GuestAccess sends.
  public static let domain = "guestaccess.v1"

  /// The wire value, e.g. `INVITE_RATE_LIMITED`.
  public let rawValue: String

  /// A reason from its wire value.
  public init(rawValue: String) { self.rawValue = rawValue }

  public var description: String { rawValue }

  /// INVALID_ARGUMENT: a field fails validation: bad id, email, URL, enum value, `page_size` < 0, a `page_token`
  /// that is not a token of this listing (garbage, or another listing's or another tenant's token), an unknown
  /// `update_mask` field.
  public static let invalidField = ErrorReason(rawValue: "INVALID_FIELD")
  /// UNAVAILABLE: the server refused the call before any handler ran (draining, connection limit): always safe to
  /// retry elsewhere.
  public static let callNotProcessed = ErrorReason(rawValue: "CALL_NOT_PROCESSED")
  /// UNAVAILABLE: WatchAuditEvents ended by the server (shutting down); metadata `last_sequence`: resume after it.
  public static let streamEnded = ErrorReason(rawValue: "STREAM_ENDED")
  /// NOT_FOUND: the object does not exist or belongs to another tenant (the two answer alike); also a `tenant_id`
  /// naming a tenant other than the caller's.
  public static let notFound = ErrorReason(rawValue: "NOT_FOUND")
  /// PERMISSION_DENIED: the caller's role does not allow the call (the message says which role is needed): e.g. an
  /// admin change by a USER_ADMIN on another admin, a sponsor extending or removing an access expiry, the operator
  /// on InvitationService or GuestService.
  public static let permissionDenied = ErrorReason(rawValue: "PERMISSION_DENIED")
  /// ALREADY_EXISTS: a uniqueness conflict found at commit (e.g. two concurrent creates of the same mail).
  public static let alreadyExists = ErrorReason(rawValue: "ALREADY_EXISTS")
  /// FAILED_PRECONDITION: an `idempotency_key` already used by the same caller with a different request within 24
  /// hours.
  public static let idempotencyKeyReused = ErrorReason(rawValue: "IDEMPOTENCY_KEY_REUSED")
  /// UNAUTHENTICATED: no `authorization` metadata.
  public static let credentialMissing = ErrorReason(rawValue: "CREDENTIAL_MISSING")
  /// UNAUTHENTICATED: `authorization` is not `Bearer <secret>`.
  public static let credentialMalformed = ErrorReason(rawValue: "CREDENTIAL_MALFORMED")
  /// UNAUTHENTICATED: no such key.
  public static let credentialUnknown = ErrorReason(rawValue: "CREDENTIAL_UNKNOWN")
  /// UNAUTHENTICATED: the key was revoked (by RevokeCredential, user deletion, guest removal, a reset, or — the
  /// bootstrap operator key — a configured operator key).
  public static let credentialRevoked = ErrorReason(rawValue: "CREDENTIAL_REVOKED")
  /// UNAUTHENTICATED: the key's `expires_at` passed.
  public static let credentialExpired = ErrorReason(rawValue: "CREDENTIAL_EXPIRED")
  /// UNAUTHENTICATED: the key's user, or the home user of an external user's key, or the member a provider token is
  /// linked to, was deleted.
  public static let credentialUserDeleted = ErrorReason(rawValue: "CREDENTIAL_USER_DELETED")
  /// UNAUTHENTICATED: the key is bound to a client certificate and the call came without it, or with another one.
  public static let credentialCertificateMismatch = ErrorReason(rawValue: "CREDENTIAL_CERTIFICATE_MISMATCH")
  /// PERMISSION_DENIED: the caller's tenant, or the tenant it acts in, is DISABLED; also
  /// RedeemInvitation/CompleteRedemption for a disabled inviting tenant (FAILED_PRECONDITION there).
  public static let tenantDisabled = ErrorReason(rawValue: "TENANT_DISABLED")
  /// PERMISSION_DENIED: the user, its guest object, or its home user has `account_enabled = false`.
  public static let signInBlocked = ErrorReason(rawValue: "SIGN_IN_BLOCKED")
  /// PERMISSION_DENIED: `access_expires_at` passed (guests and invited members).
  public static let accessExpired = ErrorReason(rawValue: "ACCESS_EXPIRED")
  /// PERMISSION_DENIED: `tenant` metadata names a tenant where the caller has no guest link (also: an unknown
  /// tenant, one with only a pending invitation for the caller's address).
  public static let notAGuest = ErrorReason(rawValue: "NOT_A_GUEST")
  /// PERMISSION_DENIED: `tenant` metadata names a tenant that removed the caller's guest object;
  /// FAILED_PRECONDITION: the address belongs to a removed guest (restore it first); FAILED_PRECONDITION: a change
  /// to a removed guest (restore it first).
  public static let guestRemoved = ErrorReason(rawValue: "GUEST_REMOVED")
  /// PERMISSION_DENIED: the caller's guest object there is not ACCEPTED (its redemption was reset).
  public static let guestNotRedeemed = ErrorReason(rawValue: "GUEST_NOT_REDEEMED")
  /// PERMISSION_DENIED: the resource tenant's inbound or the home tenant's outbound rules no longer allow the
  /// collaboration.
  public static let crossTenantBlocked = ErrorReason(rawValue: "CROSS_TENANT_BLOCKED")
  /// ALREADY_EXISTS: CreateTenant/UpdateTenant: another tenant verified the domain.
  public static let domainTaken = ErrorReason(rawValue: "DOMAIN_TAKEN")
  /// ALREADY_EXISTS: CreateUser, ResetRedemption `new_email`: a user of the tenant has the mail.
  public static let userExists = ErrorReason(rawValue: "USER_EXISTS")
  /// FAILED_PRECONDITION: IssueCredential, AddGroupMember, AssignApplication for a removed user.
  public static let userRemoved = ErrorReason(rawValue: "USER_REMOVED")
  /// FAILED_PRECONDITION: UpdateUser `mail` of a guest.
  public static let guestMailImmutable = ErrorReason(rawValue: "GUEST_MAIL_IMMUTABLE")
  /// FAILED_PRECONDITION: SetRoles: a guest may hold GUEST_INVITER only.
  public static let guestRole = ErrorReason(rawValue: "GUEST_ROLE")
  /// FAILED_PRECONDITION: IssueCredential for a guest or external member redeemed with a home key.
  public static let guestHasHomeTenant = ErrorReason(rawValue: "GUEST_HAS_HOME_TENANT")
  /// FAILED_PRECONDITION: the change would leave no enabled GLOBAL_ADMIN.
  public static let lastGlobalAdmin = ErrorReason(rawValue: "LAST_GLOBAL_ADMIN")
  /// FAILED_PRECONDITION: revoking the last active operator key.
  public static let lastOperatorCredential = ErrorReason(rawValue: "LAST_OPERATOR_CREDENTIAL")
  /// FAILED_PRECONDITION: RotateCredential of a revoked or expired key.
  public static let credentialNotActive = ErrorReason(rawValue: "CREDENTIAL_NOT_ACTIVE")
  /// FAILED_PRECONDITION: RotateCredential of a key already replaced (rotate the new one).
  public static let credentialAlreadyRotated = ErrorReason(rawValue: "CREDENTIAL_ALREADY_ROTATED")
  /// PERMISSION_DENIED: the invite policy does not let the caller invite (or invite members); the operator.
  public static let inviteNotAllowed = ErrorReason(rawValue: "INVITE_NOT_ALLOWED")
  /// PERMISSION_DENIED: `grants` from a caller without GLOBAL_ADMIN or USER_ADMIN.
  public static let grantNotAllowed = ErrorReason(rawValue: "GRANT_NOT_ALLOWED")
  /// PERMISSION_DENIED: the tenant's `invitation_email_policy` does not let the caller have email sent.
  public static let invitationEmailNotAllowed = ErrorReason(rawValue: "INVITATION_EMAIL_NOT_ALLOWED")
  /// PERMISSION_DENIED: `redirect_url` outside the tenant's `redirect_url_allow_list` (or, empty, its verified
  /// domains).
  public static let redirectURLNotAllowed = ErrorReason(rawValue: "REDIRECT_URL_NOT_ALLOWED")
  /// PERMISSION_DENIED: the address's domain fails the tenant's collaboration domain list (at invitation and at
  /// redemption).
  public static let domainNotAllowed = ErrorReason(rawValue: "DOMAIN_NOT_ALLOWED")
  /// ALREADY_EXISTS: the address belongs to a member of the tenant.
  public static let memberExists = ErrorReason(rawValue: "MEMBER_EXISTS")
  /// ALREADY_EXISTS: the address belongs to an accepted guest of the tenant.
  public static let guestExists = ErrorReason(rawValue: "GUEST_EXISTS")
  /// RESOURCE_EXHAUSTED: the tenant's invitation rate limit.
  public static let inviteRateLimited = ErrorReason(rawValue: "INVITE_RATE_LIMITED")
  /// NOT_FOUND: RedeemInvitation: unknown, replaced or revoked ticket.
  public static let ticketNotFound = ErrorReason(rawValue: "TICKET_NOT_FOUND")
  /// FAILED_PRECONDITION: the invitation's state (also ResendInvitation, RevokeInvitation).
  public static let invitationExpired = ErrorReason(rawValue: "INVITATION_EXPIRED")
  /// FAILED_PRECONDITION: the invitation's state (also ResendInvitation, RevokeInvitation).
  public static let invitationRevoked = ErrorReason(rawValue: "INVITATION_REVOKED")
  /// FAILED_PRECONDITION: the invitation's state (also ResendInvitation, RevokeInvitation).
  public static let invitationAlreadyRedeemed = ErrorReason(rawValue: "INVITATION_ALREADY_REDEEMED")
  /// PERMISSION_DENIED: home-key redemption: the caller's mail is not the invited address (also the operator).
  public static let invitationEmailMismatch = ErrorReason(rawValue: "INVITATION_EMAIL_MISMATCH")
  /// PERMISSION_DENIED: home-key redemption: the caller's mail is not verified in its tenant (docs/SECURITY.md,
  /// "Identity").
  public static let homeIdentityUnverified = ErrorReason(rawValue: "HOME_IDENTITY_UNVERIFIED")
  /// FAILED_PRECONDITION: home-key redemption by a user of the inviting tenant.
  public static let callerInInvitingTenant = ErrorReason(rawValue: "CALLER_IN_INVITING_TENANT")
  /// PERMISSION_DENIED: redemption: either tenant's cross-tenant rules block it.
  public static let crossTenantAccessBlocked = ErrorReason(rawValue: "CROSS_TENANT_ACCESS_BLOCKED")
  /// FAILED_PRECONDITION: passcode path in a tenant that disabled it.
  public static let emailOTPDisabled = ErrorReason(rawValue: "EMAIL_OTP_DISABLED")
  /// FAILED_PRECONDITION: passcode path for an address in a domain another tenant verified.
  public static let homeTenantRequired = ErrorReason(rawValue: "HOME_TENANT_REQUIRED")
  /// NOT_FOUND: CompleteRedemption: unknown session (or a ticket without one).
  public static let sessionNotFound = ErrorReason(rawValue: "SESSION_NOT_FOUND")
  /// PERMISSION_DENIED: wrong passcode.
  public static let passcodeInvalid = ErrorReason(rawValue: "PASSCODE_INVALID")
  /// FAILED_PRECONDITION: ask for a new passcode with RedeemInvitation or BeginPasscodeSignIn.
  public static let passcodeExpired = ErrorReason(rawValue: "PASSCODE_EXPIRED")
  /// FAILED_PRECONDITION: ask for a new passcode with RedeemInvitation or BeginPasscodeSignIn.
  public static let passcodeAttemptsExceeded = ErrorReason(rawValue: "PASSCODE_ATTEMPTS_EXCEEDED")
  /// FAILED_PRECONDITION: CompletePasscodeSignIn: the session's passcode was already used; sign in again.
  public static let passcodeAlreadyUsed = ErrorReason(rawValue: "PASSCODE_ALREADY_USED")
  /// PERMISSION_DENIED: CompletePasscodeSignIn with the right passcode, but the guest may no longer
  /// sign in (blocked, removed, expired, or its tenant disabled since the passcode was sent).
  public static let signInNotAllowed = ErrorReason(rawValue: "SIGN_IN_NOT_ALLOWED")
  /// RESOURCE_EXHAUSTED: too many passcodes per ticket or sign-in address, failed redemptions or
  /// sign-ins per source, or sign-in starts per source.
  public static let redemptionRateLimited = ErrorReason(rawValue: "REDEMPTION_RATE_LIMITED")
  /// FAILED_PRECONDITION: RestoreGuest more than 30 days after removal.
  public static let restorePeriodEnded = ErrorReason(rawValue: "RESTORE_PERIOD_ENDED")
  /// FAILED_PRECONDITION: a decision on an applied access review.
  public static let reviewApplied = ErrorReason(rawValue: "REVIEW_APPLIED")
  /// FAILED_PRECONDITION: a review over more guests than a review may cover.
  public static let reviewTooLarge = ErrorReason(rawValue: "REVIEW_TOO_LARGE")

  /// ALREADY_EXISTS: Create/UpdateIdentityProvider: a second MEMBERS provider, a domain another PARTNER provider of
  /// the tenant names, or another provider's issuer.
  public static let identityProviderConflict = ErrorReason(rawValue: "IDENTITY_PROVIDER_CONFLICT")
  /// UNAUTHENTICATED: a provider token that is not a compact JWS of JSON, over 16 KiB, or without `sub`/`exp`.
  public static let tokenMalformed = ErrorReason(rawValue: "TOKEN_MALFORMED")
  /// UNAUTHENTICATED: `alg` not in the provider's allowed list (`none` and HMAC never are).
  public static let tokenAlgorithmNotAllowed = ErrorReason(rawValue: "TOKEN_ALGORITHM_NOT_ALLOWED")
  /// UNAUTHENTICATED: no key of the issuer's set has the token's `kid`, after the one refetch allowed per 5 minutes.
  public static let tokenKeyUnknown = ErrorReason(rawValue: "TOKEN_KEY_UNKNOWN")
  /// UNAUTHENTICATED: the token's signature does not verify.
  public static let tokenSignatureInvalid = ErrorReason(rawValue: "TOKEN_SIGNATURE_INVALID")
  /// UNAUTHENTICATED: `iss` is not exactly the configured issuer.
  public static let tokenIssuerMismatch = ErrorReason(rawValue: "TOKEN_ISSUER_MISMATCH")
  /// UNAUTHENTICATED: `aud` lacks the client id (or `azp` names another client).
  public static let tokenAudienceMismatch = ErrorReason(rawValue: "TOKEN_AUDIENCE_MISMATCH")
  /// UNAUTHENTICATED: `exp` passed (60 s skew).
  public static let tokenExpired = ErrorReason(rawValue: "TOKEN_EXPIRED")
  /// UNAUTHENTICATED: `nbf` or `iat` in the future (60 s skew).
  public static let tokenNotYetValid = ErrorReason(rawValue: "TOKEN_NOT_YET_VALID")
  /// UNAUTHENTICATED: the ID token's `nonce` is not this sign-in's.
  public static let tokenNonceMismatch = ErrorReason(rawValue: "TOKEN_NONCE_MISMATCH")
  /// UNAUTHENTICATED: the provider does not say the address is verified.
  public static let emailNotVerified = ErrorReason(rawValue: "EMAIL_NOT_VERIFIED")
  /// UNAVAILABLE: the issuer's keys were never fetched successfully.
  public static let providerKeysUnavailable = ErrorReason(rawValue: "PROVIDER_KEYS_UNAVAILABLE")
  /// UNAUTHENTICATED: `authorization: Bearer <JWT>` whose `iss` is the issuer of no identity provider of any tenant
  /// of this server (decided before, and whatever, the `tenant` metadata names).
  public static let tokenIssuerUnknown = ErrorReason(rawValue: "TOKEN_ISSUER_UNKNOWN")
  /// UNAUTHENTICATED: a valid provider token whose `(iss, sub)` is linked to no user this call may act as: no link
  /// through a provider that accepts the token, in the tenant the `tenant` metadata names (also: no such tenant, or
  /// one that does not trust the issuer) or, without it, in any tenant's MEMBERS provider.
  public static let federatedIdentityUnlinked = ErrorReason(rawValue: "FEDERATED_IDENTITY_UNLINKED")
  /// UNAUTHENTICATED: a provider token without `tenant` metadata that is linked to members of several tenants:
  /// name one in `tenant`.
  public static let federatedIdentityAmbiguous = ErrorReason(rawValue: "FEDERATED_IDENTITY_AMBIGUOUS")

  /// FAILED_PRECONDITION: RedeemInvitation or CompleteRedemption when the tenant's redemption order selects an
  /// identity provider for the invitee: redeem in a browser through it (BeginFederatedRedemption).
  public static let providerSignInRequired = ErrorReason(rawValue: "PROVIDER_SIGN_IN_REQUIRED")
  /// FAILED_PRECONDITION: BeginFederatedRedemption when the redemption order selects no identity provider for the invitee.
  public static let redemptionStepNotOffered = ErrorReason(rawValue: "REDEMPTION_STEP_NOT_OFFERED")
  /// NOT_FOUND: CompleteFederatedRedemption with an unknown (or altered) state.
  public static let federatedStateInvalid = ErrorReason(rawValue: "FEDERATED_STATE_INVALID")
  /// FAILED_PRECONDITION: CompleteFederatedRedemption with a state already used once.
  public static let federatedStateUsed = ErrorReason(rawValue: "FEDERATED_STATE_USED")
  /// FAILED_PRECONDITION: CompleteFederatedRedemption more than 10 minutes after the sign-in began.
  public static let federatedStateExpired = ErrorReason(rawValue: "FEDERATED_STATE_EXPIRED")
  /// UNAUTHENTICATED: the provider sent an error (e.g. access_denied) or refused to exchange the code.
  public static let providerSignInFailed = ErrorReason(rawValue: "PROVIDER_SIGN_IN_FAILED")
  /// UNAVAILABLE: the provider's discovery document or token endpoint could not be reached or read.
  public static let providerUnavailable = ErrorReason(rawValue: "PROVIDER_UNAVAILABLE")

  /// Every reason this version sends (docs/ERRORS.md lists the same set).
  public static let allCases: [ErrorReason] = [
    .invalidField, .callNotProcessed, .streamEnded, .notFound, .permissionDenied, .alreadyExists,
    .idempotencyKeyReused, .credentialMissing, .credentialMalformed, .credentialUnknown, .credentialRevoked,
    .credentialExpired, .credentialUserDeleted, .credentialCertificateMismatch, .tenantDisabled, .signInBlocked,
    .accessExpired, .notAGuest, .guestRemoved, .guestNotRedeemed, .crossTenantBlocked, .domainTaken, .userExists,
    .userRemoved, .guestMailImmutable, .guestRole, .guestHasHomeTenant, .lastGlobalAdmin, .lastOperatorCredential,
    .credentialNotActive, .credentialAlreadyRotated,
    .identityProviderConflict, .tokenMalformed, .tokenAlgorithmNotAllowed, .tokenKeyUnknown, .tokenSignatureInvalid,
    .tokenIssuerMismatch, .tokenAudienceMismatch, .tokenExpired, .tokenNotYetValid, .tokenNonceMismatch, .emailNotVerified,
    .providerKeysUnavailable, .tokenIssuerUnknown, .federatedIdentityUnlinked, .federatedIdentityAmbiguous,
    .providerSignInRequired, .redemptionStepNotOffered, .federatedStateInvalid, .federatedStateUsed,
    .federatedStateExpired, .providerSignInFailed, .providerUnavailable,
    .inviteNotAllowed, .grantNotAllowed, .invitationEmailNotAllowed, .redirectURLNotAllowed, .domainNotAllowed,
    .memberExists, .guestExists, .inviteRateLimited, .ticketNotFound, .invitationExpired, .invitationRevoked,
    .invitationAlreadyRedeemed, .invitationEmailMismatch, .homeIdentityUnverified, .callerInInvitingTenant,
    .crossTenantAccessBlocked, .emailOTPDisabled, .homeTenantRequired, .sessionNotFound, .passcodeInvalid,
    .passcodeExpired, .passcodeAttemptsExceeded, .passcodeAlreadyUsed, .signInNotAllowed, .redemptionRateLimited, .restorePeriodEnded, .reviewApplied,
    .reviewTooLarge,
  ]
}
