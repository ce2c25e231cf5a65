import GuestAccessProto

/// Conditions of a user listing; `nil` fields do not filter.
public struct UserFilter: Sendable, Hashable {
  /// Only members or only guests.
  public var userType: UserType?
  /// Only members of this group.
  public var groupID: String?
  /// Only users assigned to this application.
  public var applicationID: String?
  /// Only this (lower-case) mail.
  public var mail: String?
  /// Only users holding this role.
  public var role: Role?
  /// Guests in this external state.
  public var externalState: ExternalUserState?
  /// Users whose mail is in this (lower-case) domain.
  public var domain: String?
  /// Users with no sign-in since this time (ms); users that never signed
  /// in count from their creation.
  public var inactiveSince: Int64?
  /// Only guests sponsored by this user.
  public var sponsorID: String?
  /// Users whose access expires before this time (ms), and not 0.
  public var expiringBefore: Int64?
  /// Include soft-deleted users (only deleted ones when `onlyDeleted`).
  public var includeDeleted = false
  /// Only soft-deleted users.
  public var onlyDeleted = false

  /// No conditions.
  public init() {}
}
