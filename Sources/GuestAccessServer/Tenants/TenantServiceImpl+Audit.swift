import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  public func listAuditEvents(request: ListAuditEventsRequest, context: ServerContext) async throws -> ListAuditEventsResponse {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    let size = try PageToken.size(request.pageSize)
    let listing = "audit:\(tenantID):\(request.newestFirst)"
    let token = try PageToken.cursor(request.pageToken, listing: listing)
    var filter = AuditFilter()
    filter.newestFirst = request.newestFirst
    filter.cursor = token.isEmpty ? request.afterSequence : Int64(token) ?? 0
    filter.actions = request.actions
    filter.actorID = request.actorID.isEmpty ? nil : request.actorID
    filter.targetID = request.targetID.isEmpty ? nil : request.targetID
    filter.occurredAfter = request.occurredAfterAt == 0 ? nil : request.occurredAfterAt
    filter.occurredBefore = request.occurredBeforeAt == 0 ? nil : request.occurredBeforeAt
    let finalFilter = filter
    let rows = try await env.read { reader in try reader.auditEvents(tenantID: tenantID, filter: finalFilter, limit: size + 1) }
    let page = PageToken.page(rows, size: size, listing: listing) { String($0.sequence) }
    return ListAuditEventsResponse(events: page.items, nextPageToken: page.next)
  }

  public func watchAuditEvents(request: WatchAuditEventsRequest, response: RPCWriter<AuditEvent>, context: ServerContext) async throws {
    let principal = try context.principal()
    let tenantID = try Access.tenant(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    let actions = Set(request.actions.map(\.rawValue))
    let hub = env.auditHub
    let subscription = hub.subscribe(tenantID: tenantID)
    defer { hub.unsubscribe(subscription.id) }
    var last = request.afterSequence
    if request.newOnly {
      last = try await env.read { reader in
        var filter = AuditFilter()
        filter.newestFirst = true
        return try reader.auditEvents(tenantID: tenantID, filter: filter, limit: 1).first?.sequence ?? 0
      }
    } else {
      // Replay what is stored, a page at a time.
      while true {
        var filter = AuditFilter()
        filter.cursor = last
        let finalFilter = filter
        let page = try await env.read { reader in try reader.auditEvents(tenantID: tenantID, filter: finalFilter, limit: 500) }
        for event in page where actions.isEmpty || actions.contains(event.action.rawValue) {
          try await response.write(event)
        }
        guard let newest = page.last else { break }
        last = newest.sequence
        if page.count < 500 { break }
      }
    }
    var delivered = 0
    for await event in subscription.stream {
      guard event.sequence > last else { continue }
      last = event.sequence
      delivered += 1
      if actions.isEmpty || actions.contains(event.action.rawValue) {
        try await response.write(event)
      }
    }
    _ = delivered
    try Task.checkCancellation()
    throw RPCError(code: .unavailable, message: "audit stream ended (server shutting down); resume after sequence \(last)")
  }
}
