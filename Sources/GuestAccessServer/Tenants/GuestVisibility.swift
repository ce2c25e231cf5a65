import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// What a guest may see of the tenant's users (the tenant's guest access level):
/// SAME_AS_MEMBERS everything; LIMITED itself and the id and display name of
/// members of its groups; RESTRICTED only itself.
struct GuestVisibility {
  let reader: any DirectoryReader
  let principal: Principal
  let tenantID: String

  func level() throws -> GuestAccessLevel {
    TenantServiceImpl.effective(try reader.settings(tenantID: tenantID), tenantID: tenantID, defaultRateLimit: 0).guestAccessLevel
  }

  /// The user filter of a group or application listing as this guest may run
  /// it: `.some(filter)` to list (LIMITED narrows it to the guest itself), or
  /// `nil` when the guest may see nothing (RESTRICTED, or another user's).
  func scopedUserFilter(_ requested: String?) throws -> String?? {
    switch try level() {
    case .sameAsMembers: return .some(requested)
    case .restricted: return nil
    default:
      guard let me = principal.actingUser?.id, requested == nil || requested == me else { return nil }
      return .some(me)
    }
  }

  /// The part of `user` the guest may see, or nil.
  func view(of user: User) throws -> User? {
    guard let me = principal.actingUser else { return nil }
    if user.id == me.id { return user }
    if user.deletedAt != 0 { return nil }
    switch try level() {
    case .sameAsMembers:
      return user
    case .restricted:
      return nil
    default:
      let mine = Set(try reader.groupIDs(userID: me.id))
      guard !mine.isDisjoint(with: try reader.groupIDs(userID: user.id)) else { return nil }
      return User(id: user.id, tenantID: user.tenantID, userType: user.userType, displayName: user.displayName)
    }
  }
}
