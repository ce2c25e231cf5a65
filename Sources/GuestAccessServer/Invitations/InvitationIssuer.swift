import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// Issues tickets and invitation emails: shared by CreateInvitation,
/// ResendInvitation and ResetRedemption.
struct InvitationIssuer {
  let env: ServiceEnvironment

  /// A new ticket: 256 random bits; only its keyed hash is stored.
  func newTicket() -> (ticket: String, hash: [UInt8]) {
    let ticket = Secrets.newSecret(prefix: "tkt_")
    return (ticket, env.hasher.ticket(ticket))
  }

  /// The invitation a presented ticket belongs to, compared in constant time.
  /// Tickets issued before keyed hashes (schema 5) were stored as a plain
  /// SHA-256: they are 256-bit random, so that hash cannot be searched, and
  /// they keep working until they expire (30 days at most).
  func invitation(ticket: String, reader: any DirectoryReader) throws -> Invitation? {
    for hash in [env.hasher.ticket(ticket), Secrets.hash(ticket)] {
      if let found = try reader.invitation(ticketHash: hash), Secrets.constantTimeEqual(found.storedHash, hash) {
        return found.invitation
      }
    }
    return nil
  }

  /// The redeem URL for a ticket.
  func redeemURL(ticket: String) -> String {
    var base = env.publicBaseURL
    while base.hasSuffix("/") { base.removeLast() }
    return base + "/redeem?ticket=" + ticket
  }

  /// Counts invitations toward the tenant's rate limit; RESOURCE_EXHAUSTED with a retry hint beyond it.
  func chargeRateLimit(_ writer: any DirectoryWriter, settings: TenantSettings, tenantID: String, now: Int64, count: Int = 1) throws {
    let limit = Int(settings.invitationRateLimit > 0 ? settings.invitationRateLimit : env.defaultInvitationRateLimit)
    let window = max(1, settings.invitationRateWindowSeconds) * 1000
    let used = try writer.countInWindow(key: "invite:\(tenantID)", now: now, windowMillis: window, add: count)
    if used.count > limit {
      let retry = UInt64(max(1, used.windowStart + window - now))
      throw RPCError(
        code: .resourceExhausted,
        message: "the tenant may send \(limit) invitations per \(window / 1000) s; retry in \(retry / 1000 + 1) s",
        reason: .inviteRateLimited,
        info: ["limit": String(limit), "window_seconds": String(window / 1000)],
        retryDelayMillis: retry)
    }
  }

  /// Queues the invitation email; returns the delivery record to store on the invitation.
  func queueInvitationEmail(
    _ writer: any DirectoryWriter, invitation: Invitation, redeemURL: String, inviter: User?, tenant: Tenant, now: Int64
  ) throws -> InvitationEmailDelivery {
    let info = invitation.messageInfo
    let message = OutboxMessage(
      tenantID: invitation.tenantID, invitationID: invitation.id, kind: .invitation, recipient: invitation.invitedEmail,
      cc: info.ccRecipient, createdAt: now,
      payload: OutboxPayload(
        language: info.messageLanguage, tenantName: tenant.displayName, invitedName: invitation.invitedDisplayName,
        inviterName: inviter?.displayName ?? tenant.displayName, inviterMail: inviter?.mail ?? "",
        customMessage: info.customizedMessageBody, redeemURL: redeemURL, expiresAt: invitation.expiresAt))
    _ = try writer.enqueue(message)
    return InvitationEmailDelivery(status: .queued, nextAttemptAt: now)
  }

  /// Queues a passcode email.
  func queuePasscodeEmail(
    _ writer: any DirectoryWriter, invitation: Invitation, passcode: String, tenant: Tenant, expiresAt: Int64, now: Int64
  ) throws {
    let message = OutboxMessage(
      tenantID: invitation.tenantID, invitationID: invitation.id, kind: .passcode, recipient: invitation.invitedEmail, cc: "",
      createdAt: now,
      payload: OutboxPayload(
        language: invitation.messageInfo.messageLanguage, tenantName: tenant.displayName, passcode: passcode, expiresAt: expiresAt))
    _ = try writer.enqueue(message)
  }

  /// Queues a sign-in passcode email to `guest`. The outbox's
  /// `invitationID` column holds the guest's id for this kind, so a newer
  /// sign-in passcode supersedes one not yet sent.
  func queueSignInPasscodeEmail(
    _ writer: any DirectoryWriter, guest: User, passcode: String, tenant: Tenant, language: String, expiresAt: Int64, now: Int64
  ) throws {
    let message = OutboxMessage(
      tenantID: tenant.id, invitationID: guest.id, kind: .signInPasscode, recipient: guest.mail, cc: "", createdAt: now,
      payload: OutboxPayload(
        language: language, tenantName: tenant.displayName, invitedName: guest.displayName, passcode: passcode, expiresAt: expiresAt))
    _ = try writer.enqueue(message)
  }

  /// The lifetime of a new ticket: requested seconds, or the tenant default; at most 30 days.
  static func lifetime(requestedSeconds: Int64, settings: TenantSettings) throws(RPCError) -> Int64 {
    guard requestedSeconds >= 0, requestedSeconds <= 30 * 86_400 else {
      throw RPCError.invalidArgument(field: "expires_in_seconds", "must be 0 (tenant default) to 30 days")
    }
    if requestedSeconds > 0 { return requestedSeconds * 1000 }
    return Int64(max(1, min(30, settings.defaultInvitationLifetimeDays))) * 86_400_000
  }

  /// Validates message info: one cc address, plain text body, a language tag.
  static func messageInfo(_ info: InvitationMessageInfo) throws(RPCError) -> InvitationMessageInfo {
    var result = info
    if !info.ccRecipient.isEmpty { result.ccRecipient = try Validation.email(info.ccRecipient, field: "message_info.cc_recipient") }
    result.customizedMessageBody = try Validation.text(info.customizedMessageBody, field: "message_info.customized_message_body", limit: 4000)
    _ = try languageTag(info.messageLanguage, field: "message_info.message_language")
    return result
  }

  /// A language tag such as `en-US` (or empty), else INVALID_ARGUMENT naming `field`.
  static func languageTag(_ language: String, field: String) throws(RPCError) -> String {
    guard language.count <= 35, language.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
      throw RPCError.invalidArgument(field: field, "must be a language tag such as en-US")
    }
    return language
  }
}
