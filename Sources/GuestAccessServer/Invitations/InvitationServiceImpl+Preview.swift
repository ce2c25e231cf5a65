import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// How an invitee signs in to redeem: the first step of the inviting
/// tenant's redemption order that applies (docs/FEDERATION.md).
public enum RedemptionSignIn: Sendable, Equatable {
  /// The invited domain is managed by a tenant here: its account is required
  /// (through its MEMBERS provider in a browser, or its credential).
  case homeTenant
  /// The inviting tenant's PARTNER provider for the invited domain.
  case partnerProvider
  /// A passcode is emailed to the invited address.
  case emailPasscode
  /// Neither applies (the domain is not managed here and the passcode is turned off).
  case unavailable
}

/// What the redemption pages show of an invitation, read with its ticket: only
/// what the invitation email already told the ticket holder, and the invited
/// address masked.
public struct InvitationPreview: Sendable {
  /// PENDING_ACCEPTANCE, ACCEPTED, REVOKED or EXPIRED (a pending invitation
  /// past its expiry reads EXPIRED).
  public var status: InvitationStatus
  /// The inviting tenant's display name.
  public var tenantDisplayName = ""
  /// The inviter's display name and address (empty when the operator invited).
  public var inviterName = ""
  public var inviterMail = ""
  /// The invited address, masked (`a***@example.com`).
  public var maskedEmail = ""
  /// The inviter's message, as written.
  public var customMessage = ""
  /// The invitation's language tag (empty = none chosen).
  public var language = ""
  /// Names of the groups and applications it grants.
  public var groupNames: [String] = []
  public var applicationNames: [String] = []
  /// When the ticket stops working (unix ms).
  public var expiresAt: Int64 = 0
  /// Where the invitee goes afterwards (empty = nowhere set).
  public var redirectURL = ""
  /// How the invitee signs in.
  public var signIn: RedemptionSignIn = .unavailable
  /// The display name of the identity provider the invitee signs in with in
  /// a browser ("" when none): the PARTNER provider, or the home tenant's MEMBERS provider.
  public var providerName = ""
}

extension InvitationServiceImpl {
  /// The invitation behind `ticket`, for the redemption pages. An unknown
  /// ticket is NOT_FOUND (TICKET_NOT_FOUND) and counts as a failed redemption
  /// of the caller's source, under the same limits as RedeemInvitation.
  public func previewInvitation(ticket rawTicket: String, context: ServerContext) async throws -> InvitationPreview {
    let (ticket, limit, now) = try admitTicket(rawTicket, context: context)
    let issuer = self.issuer
    let found = try await env.read { reader -> InvitationPreview? in
      guard let invitation = try issuer.invitation(ticket: ticket, reader: reader) else { return nil }
      let policy = Self.redemption
      var preview = InvitationPreview(status: policy.effectiveStatus(invitation.status, expiresAt: invitation.expiresAt, now: now))
      guard preview.status == .pendingAcceptance, let tenant = try reader.tenant(id: invitation.tenantID) else { return preview }
      preview.tenantDisplayName = tenant.displayName
      if let inviter = try reader.user(tenantID: tenant.id, id: invitation.invitedBy) {
        preview.inviterName = inviter.displayName
        preview.inviterMail = inviter.mail
      }
      preview.maskedEmail = PasscodePolicy.mask(invitation.invitedEmail)
      preview.customMessage = invitation.messageInfo.customizedMessageBody
      preview.language = invitation.messageInfo.messageLanguage
      preview.groupNames = try invitation.grants.groupIDs.compactMap { try reader.group(tenantID: tenant.id, id: $0)?.displayName }
      preview.applicationNames = try invitation.grants.applicationIDs.compactMap {
        try reader.application(tenantID: tenant.id, id: $0)?.displayName
      }
      preview.expiresAt = invitation.expiresAt
      preview.redirectURL = invitation.redirectURL
      let facts = try signInFacts(invitation, reader: reader)
      preview.signIn = policy.signIn(facts)
      preview.providerName = policy.provider(facts)?.displayName ?? ""
      return preview
    }
    guard let found else { throw try await unknownTicket(limit) }
    return found
  }

  /// The invitee declines on the consent page: the invitation stays usable
  /// (PENDING_ACCEPTANCE) and an INVITATION_REDEEMED audit event with outcome
  /// FAILURE and reason DECLINED_BY_INVITEE is recorded in the inviting tenant.
  public func declineInvitation(ticket rawTicket: String, context: ServerContext) async throws {
    let (ticket, limit, now) = try admitTicket(rawTicket, context: context)
    let audit = AuditRecorder(context[PrincipalKey.self], context: context, now: now)
    let issuer = self.issuer
    let known = try await env.write { writer, events -> Bool in
      guard let invitation = try issuer.invitation(ticket: ticket, reader: writer) else { return false }
      if let refusal = Self.redemption.redeemableRefusal(invitation.status, expiresAt: invitation.expiresAt, now: now) { throw refusal }
      try audit.record(writer, &events, tenantID: invitation.tenantID, action: .invitationRedeemed, targetType: .invitation,
                       targetID: invitation.id, outcome: .failure, details: ["reason": Self.declinedReason])
      return true
    }
    guard known else { throw try await unknownTicket(limit) }
  }

  /// What the redemption order needs to know about `invitation`.
  func signInFacts(_ invitation: Invitation, reader: any DirectoryReader) throws -> RedemptionPolicy.SignInFacts {
    let domain = VerifiedMail.domain(of: invitation.invitedEmail)
    let owner = try reader.tenantID(forDomain: domain)
    let settings = try settings(reader, tenantID: invitation.tenantID)
    let partner = try reader.identityProviders(tenantID: invitation.tenantID).map(\.provider)
      .first { $0.use == .partner && $0.domains.contains(domain) }
    let home = try owner.flatMap { owner in
      owner == invitation.tenantID ? nil : try reader.identityProviders(tenantID: owner).map(\.provider).first { $0.use == .members }
    }
    return RedemptionPolicy.SignInFacts(
      invitingTenantID: invitation.tenantID, domainOwnerTenantID: owner, emailOtpMode: settings.emailOtpMode,
      order: settings.redemptionOrder.isEmpty ? RedemptionPolicy.defaultOrder : settings.redemptionOrder, partnerProvider: partner,
      homeProvider: home)
  }

  /// The ticket, the caller's failure limit and the time, once the ticket is well-formed.
  private func admitTicket(_ rawTicket: String, context: ServerContext) throws -> (ticket: String, limit: RedemptionSourceLimit, now: Int64) {
    let ticket = Self.ticket(fromTicketOrURL: rawTicket)
    guard !ticket.isEmpty, ticket.utf8.count <= 256 else { throw RPCError.invalidArgument(field: "ticket", "is required") }
    let now = env.clock.nowMillis()
    return (ticket, RedemptionSourceLimit(context: context, now: now, policy: Self.redemption), now)
  }

  /// Counts a failed lookup against the caller's source, in one write as
  /// RedeemInvitation does, and returns TICKET_NOT_FOUND, or
  /// REDEMPTION_RATE_LIMITED once the source has used up its failures.
  private func unknownTicket(_ limit: RedemptionSourceLimit) async throws -> RPCError {
    try await env.write { writer, _ in
      try limit.missed(writer, RPCError(code: .notFound, message: "unknown or no longer valid ticket", reason: .ticketNotFound))
    }
  }

  /// The audit reason of a declined invitation.
  public static let declinedReason = "DECLINED_BY_INVITEE"
}
