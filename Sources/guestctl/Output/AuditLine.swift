import GuestAccessClient

/// One-line descriptions of audit events (for `audit follow`).
enum AuditLine {
  /// `#42 2026-11-29T01:10:17Z INVITATION_CREATED invitation inv_… by usr_… SUCCESS`.
  static func text(_ event: AuditEvent) -> String {
    var line = "#\(event.sequence) \(Display.time(event.occurredAt)) \(Display.name(event.action)) \(target(event)) by \(actor(event))"
    if !event.tenantID.isEmpty { line += " in \(event.tenantID)" }
    line += " " + Display.name(event.outcome)
    let details = event.details.map { "\($0.key)=\($0.value)" }
    if !details.isEmpty { line += " [" + details.joined(separator: " ") + "]" }
    return line
  }

  /// Who acted: the actor id, or its type for SYSTEM and ANONYMOUS.
  static func actor(_ event: AuditEvent) -> String {
    let who = event.actorID.isEmpty ? Display.name(event.actorType).lowercased() : event.actorID
    return event.actorTenantID.isEmpty || event.actorTenantID == event.tenantID ? who : "\(who)@\(event.actorTenantID)"
  }

  /// What was acted on: `kind id`.
  static func target(_ event: AuditEvent) -> String {
    let kind = Display.name(event.targetType).lowercased()
    return event.targetID.isEmpty ? kind : "\(kind) \(event.targetID)"
  }
}
