import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  public func updateSettings(request: UpdateSettingsRequest, context: ServerContext) async throws -> TenantSettings {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    guard !request.updateMask.isEmpty else { throw RPCError.invalidArgument(field: "update_mask", "name the settings to change") }
    let now = env.clock.nowMillis()
    let audit = AuditRecorder(principal, context: context, now: now)
    let defaultRate = env.defaultInvitationRateLimit
    return try await env.write { writer, events in
      guard try writer.tenant(id: tenantID) != nil else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      let stored = try writer.settings(tenantID: tenantID) ?? Self.defaultSettings(tenantID: tenantID)
      var merged = try Self.merge(request.settings, into: stored, mask: request.updateMask)
      merged.tenantID = tenantID
      merged.updatedAt = now
      merged.updatedBy = principal.actorID
      try writer.putSettings(merged)
      try audit.record(writer, &events, tenantID: tenantID, action: .settingsUpdated, targetType: .tenantSettings, targetID: tenantID,
                       details: ["fields": request.updateMask.joined(separator: ",")])
      return Self.effective(merged, tenantID: tenantID, defaultRateLimit: defaultRate)
    }
  }

  public func getSettings(request: GetSettingsRequest, context: ServerContext) async throws -> TenantSettings {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    let defaultRate = env.defaultInvitationRateLimit
    let settings = try await env.read { reader -> TenantSettings in
      guard try reader.tenant(id: tenantID) != nil else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      return Self.effective(try reader.settings(tenantID: tenantID), tenantID: tenantID, defaultRateLimit: defaultRate)
    }
    if principal.isGuest && settings.guestAccessLevel != .sameAsMembers {
      throw RPCError.permissionDenied("guests may read settings only with SAME_AS_MEMBERS access")
    }
    return settings
  }

  public func setCrossTenantAccess(request: SetCrossTenantAccessRequest, context: ServerContext) async throws -> CrossTenantAccessEntry {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    var entry = request.entry
    let partner = entry.partnerTenantID
    guard partner != tenantID else { throw RPCError.invalidArgument(field: "entry.partner_tenant_id", "must not be the tenant itself") }
    let rules: [(String, CrossTenantAccessRule)] = [
      ("entry.inbound.users_and_groups", entry.inbound.usersAndGroups), ("entry.inbound.applications", entry.inbound.applications),
      ("entry.outbound.users_and_groups", entry.outbound.usersAndGroups), ("entry.outbound.applications", entry.outbound.applications),
    ]
    for (field, rule) in rules {
      if case .unrecognized = rule.accessType { throw RPCError.invalidArgument(field: "\(field).access_type", "unknown value") }
      if rule.accessType == .unspecified && !rule.targets.isEmpty {
        throw RPCError.invalidArgument(field: "\(field).targets", "targets need an ALLOWED or BLOCKED rule")
      }
      guard rule.targets.count <= 100 else { throw RPCError.invalidArgument(field: "\(field).targets", "at most 100 targets") }
      for (index, target) in rule.targets.enumerated() where target.targetID.isEmpty || target.targetID.utf8.count > 128 {
        throw RPCError.invalidArgument(field: "\(field).targets[\(index)].target_id", "is required (at most 128 characters)")
      }
    }
    if partner.isEmpty && (!entry.inbound.usersAndGroups.targets.isEmpty || !entry.outbound.applications.targets.isEmpty) {
      throw RPCError.invalidArgument(field: "entry", "the default entry cannot target another tenant's users, groups or applications")
    }
    let now = env.clock.nowMillis()
    entry.updatedAt = now
    entry.updatedBy = principal.actorID
    let audit = AuditRecorder(principal, context: context, now: now)
    let finalEntry = entry
    let empty = rules.allSatisfy { $0.1.accessType == .unspecified }
    return try await env.write { writer, events in
      guard try writer.tenant(id: tenantID) != nil else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      if empty && !partner.isEmpty {
        try writer.deleteCrossTenantEntry(tenantID: tenantID, partnerTenantID: partner)
      } else {
        if !partner.isEmpty, try writer.crossTenantEntry(tenantID: tenantID, partnerTenantID: partner) == nil,
          try writer.crossTenantEntries(tenantID: tenantID).count > 1000
        {
          throw RPCError(code: .resourceExhausted, message: "at most 1000 partner entries")
        }
        try writer.putCrossTenantEntry(tenantID: tenantID, finalEntry)
      }
      try audit.record(writer, &events, tenantID: tenantID, action: .crossTenantAccessUpdated, targetType: .crossTenantAccess,
                       targetID: partner.isEmpty ? "default" : partner)
      return finalEntry
    }
  }

  public func getCrossTenantAccess(request: GetCrossTenantAccessRequest, context: ServerContext) async throws -> CrossTenantAccessPolicy {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireAdmin(principal)
    let partner = request.partnerTenantID
    return try await env.read { reader in
      guard try reader.tenant(id: tenantID) != nil else { throw RPCError.notFound(kind: "tenant", id: tenantID) }
      let entries = try reader.crossTenantEntries(tenantID: tenantID)
      var policy = CrossTenantAccessPolicy(tenantID: tenantID)
      policy.defaultEntry = entries.first { $0.partnerTenantID.isEmpty } ?? CrossTenantAccessEntry()
      policy.partners = entries.filter { !$0.partnerTenantID.isEmpty && (partner.isEmpty || $0.partnerTenantID == partner) }
      return policy
    }
  }
}
