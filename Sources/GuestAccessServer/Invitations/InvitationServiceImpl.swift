import GuestAccessAPI
import GuestAccessServerAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// InvitationService: the invitation lifecycle and both redemption paths (docs/GUEST_LIFECYCLE.md, docs/EMAIL.md).
public struct InvitationServiceImpl: InvitationService.ServiceProtocol {
  let env: ServiceEnvironment
  let issuer: InvitationIssuer

  /// Creates the service.
  public init(environment: ServiceEnvironment) {
    env = environment
    issuer = InvitationIssuer(env: environment)
  }

  /// Methods callable without a credential (the email passcode path).
  public static let anonymousMethods: Set<String> = [
    InvitationService.Method.redeemInvitation.path, InvitationService.Method.completeRedemption.path,
    InvitationService.Method.beginPasscodeSignIn.path, InvitationService.Method.completePasscodeSignIn.path,
    InvitationService.Method.beginFederatedRedemption.path, InvitationService.Method.completeFederatedRedemption.path,
  ]

  /// The redemption rules (order, passcode life, attempts and quotas, failures per source).
  static let redemption = RedemptionPolicy()

  func settings(_ reader: any DirectoryReader, tenantID: String) throws -> TenantSettings {
    TenantServiceImpl.effective(try reader.settings(tenantID: tenantID), tenantID: tenantID, defaultRateLimit: env.defaultInvitationRateLimit)
  }

  /// The caller of an authenticated call: a tenant user (the operator is no tenant
  /// user and is refused, as by every InvitationService call) and its tenant.
  func caller(_ context: ServerContext, tenantID requested: String) throws(RPCError) -> (principal: Principal, tenantID: String) {
    let principal = try context.principal()
    guard !principal.isOperator else {
      throw RPCError.permissionDenied("the operator is no tenant user; use a tenant admin's credential for invitations")
    }
    return (principal, try Access.tenant(requested, principal))
  }

  /// An invitation as clients see it: no ticket, the latest email delivery state.
  static func view(_ invitation: Invitation, outbox: OutboxMessage?) -> Invitation {
    var invitation = invitation
    invitation.redeemURL = ""
    if let outbox, invitation.sendInvitationMessage {
      var delivery = InvitationEmailDelivery()
      delivery.status = switch outbox.status {
      case .queued: .queued
      case .sent: .sent
      case .failed: .failed
      }
      delivery.attempts = Int32(outbox.attempts)
      delivery.failureReason = outbox.lastError
      delivery.lastAttemptAt = outbox.attempts > 0 ? max(outbox.createdAt, outbox.sentAt) : 0
      delivery.sentAt = outbox.sentAt
      delivery.nextAttemptAt = outbox.status == .queued ? outbox.nextAttemptAt : 0
      invitation.emailDelivery = delivery
    } else if !invitation.sendInvitationMessage {
      invitation.emailDelivery = InvitationEmailDelivery(status: .notRequested)
    }
    return invitation
  }
}
