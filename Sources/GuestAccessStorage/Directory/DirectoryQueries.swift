import GuestAccessProto

/// The SQL dialects of the stores.
public enum SQLDialect: Sendable {
  /// SQLite: `?1` parameters.
  case sqlite
  /// PostgreSQL: `$1` parameters.
  case postgres

  /// The placeholder of parameter `index` (from 1).
  func placeholder(_ index: Int) -> String {
    switch self {
    case .sqlite: return "?\(index)"
    case .postgres: return "$\(index)"
    }
  }
}

/// The listing statements whose conditions depend on a filter, built once
/// for both stores: the SQL (in `dialect`) and the values to bind, in order.
public struct DirectoryQuery: Sendable {
  /// The statement.
  public private(set) var sql = ""
  /// Its parameters.
  public private(set) var values: [SQLiteValue] = []
  private let dialect: SQLDialect

  private init(_ dialect: SQLDialect, values: [SQLiteValue]) {
    self.dialect = dialect
    self.values = values
  }

  /// Appends a value; returns its placeholder.
  private mutating func bind(_ value: SQLiteValue) -> String {
    values.append(value)
    return dialect.placeholder(values.count)
  }

  /// Audit events (`sequence`, `data`) of a tenant (nil: all) matching `filter`.
  public static func auditEvents(tenantID: String?, filter: AuditFilter, limit: Int, dialect: SQLDialect) -> DirectoryQuery {
    var query = DirectoryQuery(dialect, values: [])
    var conditions: [String] = []
    if let tenantID { conditions.append("tenant_id = \(query.bind(.text(tenantID)))") }
    if filter.newestFirst {
      if filter.cursor > 0 { conditions.append("sequence < \(query.bind(.integer(filter.cursor)))") }
    } else {
      conditions.append("sequence > \(query.bind(.integer(filter.cursor)))")
    }
    if !filter.actions.isEmpty {
      conditions.append("action IN (" + filter.actions.map { query.bind(.int($0.rawValue)) }.joined(separator: ",") + ")")
    }
    if let actor = filter.actorID { conditions.append("actor_id = \(query.bind(.text(actor)))") }
    if let target = filter.targetID { conditions.append("target_id = \(query.bind(.text(target)))") }
    if let after = filter.occurredAfter { conditions.append("occurred_at >= \(query.bind(.integer(after)))") }
    if let before = filter.occurredBefore { conditions.append("occurred_at < \(query.bind(.integer(before)))") }
    let order = filter.newestFirst ? "DESC" : "ASC"
    let condition = conditions.isEmpty ? "1 = 1" : conditions.joined(separator: " AND ")
    query.sql = "SELECT sequence, data FROM audit_events WHERE \(condition) ORDER BY sequence \(order) LIMIT \(query.bind(.int(limit)))"
    return query
  }

  /// Users (`data`) of a tenant after `cursor` in id order, matching `filter`.
  public static func users(tenantID: String, filter: UserFilter, after cursor: String, limit: Int, dialect: SQLDialect) -> DirectoryQuery {
    var query = DirectoryQuery(dialect, values: [.text(tenantID), .text(cursor)])
    // A mail names at most a handful of rows: SQLite is told to look them up
    // by the mail index rather than walk the tenant in id order.
    var sql = filter.mail != nil && dialect == .sqlite ? "SELECT u.data FROM users u INDEXED BY users_mail" : "SELECT u.data FROM users u"
    var conditions = ["u.tenant_id = \(dialect.placeholder(1))", "u.id > \(dialect.placeholder(2))"]
    if let groupID = filter.groupID {
      sql += " JOIN group_members gm ON gm.user_id = u.id AND gm.group_id = \(query.bind(.text(groupID)))"
    }
    if let sponsorID = filter.sponsorID {
      sql += " JOIN user_sponsors us ON us.user_id = u.id AND us.sponsor_id = \(query.bind(.text(sponsorID)))"
    }
    if let applicationID = filter.applicationID {
      sql += " JOIN app_assignments aa ON aa.user_id = u.id AND aa.application_id = \(query.bind(.text(applicationID)))"
    }
    if let userType = filter.userType { conditions.append("u.user_type = \(query.bind(.int(userType.rawValue)))") }
    if let mail = filter.mail { conditions.append("u.mail = \(query.bind(.text(mail)))") }
    if let role = filter.role {
      let function = dialect == .sqlite ? "instr" : "strpos"
      conditions.append("\(function)(u.roles, \(query.bind(.text(",\(role.rawValue),")))) > 0")
    }
    if let state = filter.externalState { conditions.append("u.external_state = \(query.bind(.int(state.rawValue)))") }
    if let domain = filter.domain { conditions.append("u.domain = \(query.bind(.text(domain)))") }
    if let since = filter.inactiveSince { conditions.append("u.activity_at < \(query.bind(.integer(since)))") }
    if let before = filter.expiringBefore {
      conditions.append("u.access_expires_at > 0 AND u.access_expires_at < \(query.bind(.integer(before)))")
    }
    if filter.onlyDeleted {
      conditions.append("u.deleted_at > 0")
    } else if !filter.includeDeleted {
      conditions.append("u.deleted_at = 0")
    }
    query.sql = sql + " WHERE " + conditions.joined(separator: " AND ") + " ORDER BY u.id LIMIT \(query.bind(.int(limit)))"
    return query
  }

  /// Invitations (`data`) of a tenant newest first below `cursor` (ids sort by
  /// creation time, so the cursor is the last id seen), matching `filter`.
  public static func invitations(
    tenantID: String, filter: InvitationFilter, after cursor: String, limit: Int, dialect: SQLDialect
  ) -> DirectoryQuery {
    var query = DirectoryQuery(dialect, values: [.text(tenantID), .text(cursor)])
    let (tenant, page) = (dialect.placeholder(1), dialect.placeholder(2))
    var conditions = ["tenant_id = \(tenant)", "(\(page) = '' OR id < \(page))"]
    if let status = filter.status { conditions.append("status = \(query.bind(.int(status.rawValue)))") }
    if let email = filter.invitedEmail { conditions.append("invited_email = \(query.bind(.text(email)))") }
    if let guest = filter.guestUserID { conditions.append("guest_user_id = \(query.bind(.text(guest)))") }
    if let inviter = filter.invitedBy { conditions.append("invited_by = \(query.bind(.text(inviter)))") }
    query.sql = "SELECT data FROM invitations WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT \(query.bind(.int(limit)))"
    return query
  }

  /// The `users` columns of `user`, in the order of the stores' INSERT and
  /// UPDATE: id, tenant_id, mail, domain, user_type, roles, external_state,
  /// home_tenant_id, home_user_id, last_sign_in_at, access_expires_at,
  /// deleted_at, data, account_enabled, removal_scheduled_at, activity_at.
  public static func userColumns(_ user: User) -> [SQLiteValue] {
    let mail = user.mail.lowercased()
    let domain = mail.split(separator: "@").last.map(String.init) ?? ""
    let home = user.identities.first { $0.signInType == .homeTenant }
    return [
      .text(user.id), .text(user.tenantID), .text(mail), .text(domain), .int(user.userType.rawValue),
      .text("," + user.roles.map { String($0.rawValue) }.joined(separator: ",") + ","),
      .int(user.externalUserState.rawValue), .text(home?.issuer ?? ""), .text(home?.issuerAssignedID ?? ""),
      .integer(user.lastSignInAt), .integer(user.accessExpiresAt), .integer(user.deletedAt), .blob(user.serializedBytes()),
      .bool(user.accountEnabled), .integer(user.removalScheduledAt), .integer(activityAt(user)),
    ]
  }

  /// The time inactivity counts from: the last sign-in, or creation for a user that never signed in.
  public static func activityAt(_ user: User) -> Int64 {
    user.lastSignInAt != 0 ? user.lastSignInAt : user.createdAt
  }
}
