import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// Builds and appends audit events inside the transaction of the change they record.
/// A call's events carry its request id (`RequestIDs`); the
/// server's own work (sweeps, email delivery, bootstrap) is SYSTEM with none.
struct AuditRecorder {
  let principal: Principal?
  let requestID: String
  let now: Int64
  /// The server acting on its own rather than for a call.
  let isSystem: Bool
  /// The client certificate the call came with (mutual TLS), recorded as the
  /// `tls_client_subject` and `tls_client_uris` details.
  var peerCertificate: PeerCertificate?

  init(_ principal: Principal?, context: ServerContext, now: Int64) {
    self.init(principal, requestID: context.requestID, now: now)
    peerCertificate = context.peerCertificate
  }

  init(_ principal: Principal?, requestID: String, now: Int64) {
    self.principal = principal
    self.requestID = requestID
    self.now = now
    isSystem = false
  }

  init(systemAt now: Int64) {
    principal = nil
    requestID = ""
    self.now = now
    isSystem = true
  }

  /// Appends one event and collects it for publication.
  func record(
    _ writer: any DirectoryWriter, _ events: inout [AuditEvent], tenantID: String, action: AuditAction,
    targetType: DirectoryObjectType, targetID: String, outcome: AuditOutcome = .success, details: [String: String] = [:]
  ) throws {
    var event = AuditEvent()
    event.occurredAt = now
    event.tenantID = tenantID
    if let principal {
      event.actorType = principal.isOperator ? .operator : .user
      event.actorID = principal.actorID
      let home = principal.homeUser?.tenantID ?? ""
      event.actorTenantID = home == tenantID ? "" : home
      event.credentialID = principal.credentialID
    } else {
      event.actorType = isSystem ? .system : .anonymous
      event.actorID = isSystem ? "system" : ""
    }
    event.action = action
    event.targetType = targetType
    event.targetID = targetID
    event.outcome = outcome
    event.requestID = requestID
    var details = details
    if let peerCertificate {
      details[Self.clientSubjectDetail] = peerCertificate.subject
      if !peerCertificate.uris.isEmpty { details[Self.clientURIsDetail] = peerCertificate.uris.joined(separator: " ") }
    }
    event.details = details.sorted { $0.key < $1.key }.map { AuditDetail(key: $0.key, value: $0.value) }
    events.append(try writer.appendAudit(event))
  }

  /// Audit detail keys of the caller's client certificate.
  static let clientSubjectDetail = "tls_client_subject"
  static let clientURIsDetail = "tls_client_uris"
}
