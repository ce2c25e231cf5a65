import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

extension GuestServiceImpl {
  public func getGuest(request: GetGuestRequest, context: ServerContext) async throws -> User {
    let (principal, _, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let id = try Self.userID(request.userID, field: "user_id", caller: principal)
    return try await env.read { reader in
      try Self.readable(try Self.guest(reader, tenantID: tenantID, id: id), by: principal, reader: reader)
    }
  }

  /// `guest` as `principal` may read it (GetGuest's rules): a guest caller
  /// sees what its access level allows, a removed guest only admins; NOT_FOUND otherwise.
  static func readable(_ guest: User, by principal: Principal, reader: any DirectoryReader) throws -> User {
    if principal.isGuest {
      guard let view = try GuestVisibility(reader: reader, principal: principal, tenantID: guest.tenantID).view(of: guest) else {
        throw RPCError.notFound(kind: "guest", id: guest.id)
      }
      return view
    }
    if guest.deletedAt != 0 && !principal.isAdmin { throw RPCError.notFound(kind: "guest", id: guest.id) }
    return guest
  }

  public func listGuests(request: ListGuestsRequest, context: ServerContext) async throws -> ListGuestsResponse {
    let (principal, _, tenantID) = try Self.caller(context, tenantID: request.tenantID)
    let size = try PageToken.size(request.pageSize)
    let listing = "guests:\(tenantID)"
    let cursor = try PageToken.cursor(request.pageToken, listing: listing)
    let filter = try guestFilter(request, principal: principal, now: env.clock.nowMillis())
    let rows = try await env.read { reader -> [User] in
      if principal.isGuest {
        let level = try GuestVisibility(reader: reader, principal: principal, tenantID: tenantID).level()
        guard level == .sameAsMembers else {
          throw RPCError.permissionDenied("the tenant's guest access level (\(level.protoName)) does not let guests list guests")
        }
      }
      return try reader.users(tenantID: tenantID, filter: filter, after: cursor, limit: size + 1)
    }
    let page = PageToken.page(rows, size: size, listing: listing) { $0.id }
    return ListGuestsResponse(guests: page.items, nextPageToken: page.next)
  }

  /// The store filter of a ListGuests request.
  private func guestFilter(_ request: ListGuestsRequest, principal: Principal, now: Int64) throws(RPCError) -> UserFilter {
    var filter = UserFilter()
    filter.userType = .guest
    switch request.externalUserState {
    case .unspecified: break
    case .pendingAcceptance, .accepted: filter.externalState = request.externalUserState
    default: throw RPCError.invalidArgument(field: "external_user_state", "unknown value")
    }
    if !request.domain.isEmpty { filter.domain = try Validation.domain(request.domain, field: "domain") }
    guard (0...36_500).contains(request.inactiveDays) else {
      throw RPCError.invalidArgument(field: "inactive_days", "must be 0 (no filter) to 36500")
    }
    if request.inactiveDays > 0 { filter.inactiveSince = now - Int64(request.inactiveDays) * 86_400_000 }
    guard request.accessExpiresBeforeAt >= 0 else {
      throw RPCError.invalidArgument(field: "access_expires_before_at", "must not be negative")
    }
    if request.accessExpiresBeforeAt > 0 { filter.expiringBefore = request.accessExpiresBeforeAt }
    if !request.sponsorID.isEmpty { filter.sponsorID = try Self.userID(request.sponsorID, field: "sponsor_id", caller: principal) }
    if request.removedOnly {
      guard principal.isAdmin else { throw RPCError.permissionDenied("listing removed guests needs the GLOBAL_ADMIN or USER_ADMIN role") }
      filter.onlyDeleted = true
    }
    return filter
  }

  public func listMyGuestTenants(request: ListMyGuestTenantsRequest, context: ServerContext) async throws -> ListMyGuestTenantsResponse {
    let principal = try context.principal()
    guard let home = principal.homeUser else { throw RPCError.permissionDenied("the operator is a guest nowhere") }
    let size = try PageToken.size(request.pageSize)
    let listing = "guest-tenants:\(home.id)"
    let cursor = try PageToken.cursor(request.pageToken, listing: listing)
    let rows = try await env.read { reader -> [GuestTenant] in
      // A passcode guest's credential is its guest object itself: its one tenant.
      let links = home.userType == .guest ? [try reader.user(id: home.id) ?? home] : try reader.guestLinks(homeUserID: home.id)
      let entries = links
        .filter { $0.userType == .guest && $0.deletedAt == 0 && $0.externalUserState == .accepted }
        .map { (key: Self.guestTenantKey($0), guest: $0) }
        .filter { $0.key > cursor }
        .sorted { $0.key < $1.key }
        .prefix(size + 1)
      return try entries.map { entry in
        GuestTenant(tenantID: entry.guest.tenantID, tenantDisplayName: try reader.tenant(id: entry.guest.tenantID)?.displayName ?? "",
                    guest: entry.guest)
      }
    }
    let page = PageToken.page(rows, size: size, listing: listing) { Self.guestTenantKey($0.guest) }
    return ListMyGuestTenantsResponse(tenants: page.items, nextPageToken: page.next)
  }

  /// The order of ListMyGuestTenants: tenant id, then guest id.
  private static func guestTenantKey(_ guest: User) -> String {
    guest.tenantID + "/" + guest.id
  }
}
