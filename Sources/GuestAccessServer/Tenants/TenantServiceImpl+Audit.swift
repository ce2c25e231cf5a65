import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension TenantServiceImpl {
  public func listAuditEvents(request: ListAuditEventsRequest, context: ServerContext) async throws -> ListAuditEventsResponse {
    let principal = try context.principal()
    let tenantID = try Self.auditScope(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    let size = try PageToken.size(request.pageSize)
    let listing = "audit:\(tenantID ?? "*"):\(request.newestFirst)"
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
    guard request.outcome != .unspecified else {
      let rows = try await env.read { reader in try reader.auditEvents(tenantID: tenantID, filter: finalFilter, limit: size + 1) }
      let page = PageToken.page(rows, size: size, listing: listing) { String($0.sequence) }
      return ListAuditEventsResponse(events: page.items, nextPageToken: page.next)
    }
    let page = try await auditPage(tenantID: tenantID, filter: finalFilter, outcome: request.outcome, size: size)
    return ListAuditEventsResponse(
      events: page.items, nextPageToken: page.resumeAfter.map { PageToken.make(cursor: String($0), listing: listing) } ?? "")
  }

  /// Events a page reads at most when it filters by outcome (the outcome is
  /// inside the stored event, not a column): a page with fewer matches has a
  /// `next_page_token` to go on from the last event read.
  static let maxAuditEventsScannedPerPage = 10_000

  /// A page of the events matching `filter` whose outcome is `outcome`,
  /// read in batches; `resumeAfter` is the sequence the next page starts
  /// after (nil: nothing left).
  private func auditPage(
    tenantID: String?, filter: AuditFilter, outcome: AuditOutcome, size: Int
  ) async throws -> (items: [AuditEvent], resumeAfter: Int64?) {
    var matched: [AuditEvent] = []
    var batch = filter
    var scanned = 0
    while scanned < Self.maxAuditEventsScannedPerPage {
      let query = batch
      let limit = min(Self.auditPageSize, Self.maxAuditEventsScannedPerPage - scanned)
      let events = try await env.read { reader in try reader.auditEvents(tenantID: tenantID, filter: query, limit: limit) }
      scanned += events.count
      for event in events {
        batch.cursor = event.sequence
        guard event.outcome == outcome else { continue }
        if matched.count == size { return (matched, matched[size - 1].sequence) }
        matched.append(event)
      }
      if events.count < limit { return (matched, nil) }
    }
    return (matched, batch.cursor)
  }

  /// Streams from the store: the stored events after the resume point, then,
  /// each time the hub says new events of the scope committed, the events
  /// after the last one delivered. A reader slower than the log only falls
  /// behind; it never loses an event.
  public func watchAuditEvents(request: WatchAuditEventsRequest, response: RPCWriter<AuditEvent>, context: ServerContext) async throws {
    let principal = try context.principal()
    let tenantID = try Self.auditScope(request.tenantID, principal)
    try Access.requireGlobalAdmin(principal)
    var filter = AuditFilter()
    filter.actions = request.actions
    let hub = env.auditHub
    // Subscribed before the first read, so no commit falls between the two.
    let subscription = hub.subscribe(tenantID: tenantID)
    defer { hub.unsubscribe(subscription.id) }
    var last = request.afterSequence
    if request.newOnly {
      last = try await env.read { reader in
        var newest = AuditFilter()
        newest.newestFirst = true
        return try reader.auditEvents(tenantID: tenantID, filter: newest, limit: 1).first?.sequence ?? 0
      }
    }
    last = try await deliverStored(after: last, tenantID: tenantID, filter: filter, to: response)
    for await _ in subscription.wakeUps {
      last = try await deliverStored(after: last, tenantID: tenantID, filter: filter, to: response)
    }
    try Task.checkCancellation()
    throw RPCError(
      code: .unavailable,
      message: "audit stream ended (server shutting down); resume after sequence \(last)",
      reason: .streamEnded,
      info: ["last_sequence": String(last)])
  }

  /// Writes the stored events after `sequence`, a page at a time, until none
  /// is left; returns the last sequence read.
  private func deliverStored(
    after sequence: Int64, tenantID: String?, filter: AuditFilter, to response: RPCWriter<AuditEvent>
  ) async throws -> Int64 {
    var last = sequence
    while true {
      var page = filter
      page.cursor = last
      let query = page
      let events = try await env.read { reader in try reader.auditEvents(tenantID: tenantID, filter: query, limit: Self.auditPageSize) }
      for event in events { try await response.write(event) }
      guard let newest = events.last else { return last }
      last = newest.sequence
      if events.count < Self.auditPageSize { return last }
    }
  }

  /// Events read from the store at a time by a watch.
  static let auditPageSize = 500

  /// The audit scope of a request: a user's acting tenant (or the tenant it
  /// names, NOT_FOUND if another); for the operator the named tenant, or nil
  /// (every tenant, with the operator's own events outside tenants) when
  /// `tenant_id` is empty.
  static func auditScope(_ requested: String, _ principal: Principal) throws(RPCError) -> String? {
    if principal.isOperator && requested.isEmpty { return nil }
    return try Access.tenant(requested, principal)
  }
}
