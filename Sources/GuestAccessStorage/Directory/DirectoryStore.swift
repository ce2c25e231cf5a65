import GuestAccessProto

/// The persistence boundary of the services. The services only see these
/// protocols; `SQLiteDirectoryStore` (one process) and `PostgresDirectoryStore`
/// (several guestd on one database) implement them.
///
/// A `write` body may run more than once (a backend with concurrent
/// transactions retries it after a serialization failure or a deadlock): it
/// must do nothing outside the writer but compute its result.
public protocol DirectoryStore: Sendable {
  /// Runs `body` against a consistent snapshot.
  func read<T: Sendable>(_ body: @escaping @Sendable (any DirectoryReader) throws -> T) async throws -> T
  /// Runs `body` in a transaction; returns once it is durably committed.
  func write<T: Sendable>(_ body: @escaping @Sendable (any DirectoryWriter) throws -> T) async throws -> T
  /// A number that moves on, after the commit and before the write is
  /// acknowledged, whenever a write changes anything authentication derives
  /// from: credentials, existing users and guest links, group memberships,
  /// tenants, settings and cross-tenant rules (not new users, invitations,
  /// audit events or other data). A cache of authenticated principals reads
  /// it before its snapshot and trusts an entry only while it is unchanged.
  /// In the SQLite store every writer method on those tables calls
  /// `SQLiteConnection.markInvalidatesCaches()`; a new one must too.
  var authGeneration: UInt64 { get }
  /// Whether a write can be committed now (for readiness).
  func checkWritable() async -> Bool
  /// Writes waiting for a connection (a gauge for metrics).
  var writeBacklog: Int { get }
  /// Whether this process holds `lease` now, taking it when free: work that
  /// must run on one process at a time (the sweeper) asks before each run.
  /// A process that dies loses its leases; another one takes them over.
  func holdsLease(_ lease: StoreLease) async -> Bool
  /// Calls `handler` after audit events commit in another process sharing
  /// the database, with their tenants ("" = the operator's; nil = any, after
  /// notifications may have been missed), so that watchers read them.
  func observeAuditCommits(_ handler: @escaping @Sendable (_ tenantIDs: Set<String>?) -> Void)
  /// Stops the store's threads after queued work.
  func close()
}

/// Queries of the directory.
public protocol DirectoryReader: InvitationReader, OutboxReader, IdentityProviderReader, FederatedSignInReader {
  /// A tenant by id.
  func tenant(id: String) throws -> Tenant?
  /// Tenants ordered by id after `cursor`.
  func tenants(after cursor: String, limit: Int, state: TenantState?, domain: String?) throws -> [Tenant]
  /// The tenant that verified `domain`, if any.
  func tenantID(forDomain domain: String) throws -> String?
  /// A tenant's stored settings.
  func settings(tenantID: String) throws -> TenantSettings?
  /// A tenant's cross-tenant entries; the default entry has partner id "".
  func crossTenantEntries(tenantID: String) throws -> [CrossTenantAccessEntry]
  /// One cross-tenant entry ("" for the default).
  func crossTenantEntry(tenantID: String, partnerTenantID: String) throws -> CrossTenantAccessEntry?

  /// A user of a tenant by id (soft-deleted ones included).
  func user(tenantID: String, id: String) throws -> User?
  /// A user by id, any tenant.
  func user(id: String) throws -> User?
  /// The non-deleted user of a tenant with `mail` (lower-case).
  func user(tenantID: String, mail: String) throws -> User?
  /// Users ordered by id after `cursor`.
  func users(tenantID: String, filter: UserFilter, after cursor: String, limit: Int) throws -> [User]
  /// Guest objects (any tenant) whose home identity is `homeUserID`.
  func guestLinks(homeUserID: String) throws -> [User]
  /// Non-deleted users of any tenant with `mail`.
  func users(mail: String) throws -> [User]

  /// A group of a tenant.
  func group(tenantID: String, id: String) throws -> Group?
  /// Groups ordered by id after `cursor`, optionally only those `memberUserID` belongs to.
  func groups(tenantID: String, memberUserID: String?, after cursor: String, limit: Int) throws -> [Group]
  /// Whether `userID` is a member of `groupID`.
  func isMember(groupID: String, userID: String) throws -> Bool
  /// Group ids of a user.
  func groupIDs(userID: String) throws -> [String]

  /// An application of a tenant.
  func application(tenantID: String, id: String) throws -> Application?
  /// Applications ordered by id after `cursor`, optionally only those assigned to `userID`.
  func applications(tenantID: String, assignedUserID: String?, after cursor: String, limit: Int) throws -> [Application]
  /// Whether `userID` is assigned to `applicationID`.
  func isAssigned(applicationID: String, userID: String) throws -> Bool
  /// Application ids of a user.
  func applicationIDs(userID: String) throws -> [String]

  /// The credential whose secret hashes to `secretHash`, with that stored hash.
  func credential(secretHash: [UInt8]) throws -> (credential: Credential, storedHash: [UInt8])?
  /// A credential by id within a tenant ("" for operator credentials).
  func credential(tenantID: String, id: String) throws -> Credential?
  /// Credentials newest first (descending id), below `cursor` ("" = from the newest).
  func credentials(tenantID: String, userID: String?, after cursor: String, limit: Int) throws -> [Credential]
  /// Whether any operator credential exists.
  func hasOperatorCredential() throws -> Bool

  /// Audit events of a tenant ("" = the operator's own events outside any
  /// tenant; nil = every event) ordered by sequence.
  func auditEvents(tenantID: String?, filter: AuditFilter, limit: Int) throws -> [AuditEvent]

  /// The stored result of an idempotent create, if stored at `notBefore` (Unix ms) or later.
  func idempotentResult(scope: String, key: String, notBefore: Int64) throws -> (requestHash: [UInt8], response: [UInt8])?
}

/// Changes to the directory (inside a write transaction).
public protocol DirectoryWriter: DirectoryReader, InvitationWriter, IdentityProviderWriter, FederatedSignInWriter {
  /// Inserts or replaces a tenant.
  func putTenant(_ tenant: Tenant) throws
  /// Replaces the verified domains of a tenant.
  /// - Throws: `StoreError.conflict` when another tenant verified one of them.
  func setDomains(tenantID: String, domains: [String]) throws
  /// Inserts or replaces settings.
  func putSettings(_ settings: TenantSettings) throws
  /// Inserts or replaces a cross-tenant entry ("" partner = default).
  func putCrossTenantEntry(tenantID: String, _ entry: CrossTenantAccessEntry) throws
  /// Deletes a partner entry.
  func deleteCrossTenantEntry(tenantID: String, partnerTenantID: String) throws

  /// Inserts a user.
  /// - Throws: `StoreError.conflict` when the tenant has a non-deleted user with that mail.
  func insertUser(_ user: User) throws
  /// Replaces a user.
  func updateUser(_ user: User) throws
  /// Deletes a user and its memberships and assignments for good.
  func deleteUser(id: String) throws

  /// Inserts a group.
  func insertGroup(_ group: Group) throws
  /// Adds a member; false if it already was one.
  func addMember(groupID: String, userID: String) throws -> Bool
  /// Removes a member; false if it was not one.
  func removeMember(groupID: String, userID: String) throws -> Bool
  /// Removes a user from every group.
  func removeAllMemberships(userID: String) throws

  /// Inserts an application.
  func insertApplication(_ application: Application) throws
  /// Assigns a user; false if already assigned.
  func assign(applicationID: String, userID: String) throws -> Bool
  /// Unassigns a user; false if it was not assigned.
  func unassign(applicationID: String, userID: String) throws -> Bool
  /// Removes every assignment of a user.
  func removeAllAssignments(userID: String) throws

  /// Inserts a credential with the hash of its secret.
  func insertCredential(_ credential: Credential, secretHash: [UInt8]) throws
  /// Replaces a credential's metadata.
  func updateCredential(_ credential: Credential) throws
  /// Records when a credential was last used: a write that changes nothing
  /// authentication reads, so it leaves `authGeneration` alone. Never moves it back.
  func touchCredential(id: String, lastUsedAt: Int64) throws
  /// Records a user's sign-in time (and so its activity time) without moving
  /// `authGeneration`: authentication does not read it. Never moves it back.
  func touchUser(id: String, lastSignInAt: Int64) throws

  /// Appends an audit event; returns it with its sequence number, or with 0
  /// where the store numbers events when the transaction commits (PostgreSQL).
  func appendAudit(_ event: AuditEvent) throws -> AuditEvent

  /// Runs `body` so that what it wrote is undone when it throws, while the
  /// surrounding transaction goes on (a nested savepoint): a refused request
  /// can still commit a counter written before or after it.
  func undoingOnError<T>(_ body: () throws -> T) throws -> T

  /// Stores the result of an idempotent create (replacing an expired one under the same key).
  func saveIdempotentResult(scope: String, key: String, requestHash: [UInt8], response: [UInt8], at: Int64) throws
  /// Deletes up to `limit` stored results older than `before` (Unix ms); returns how many.
  func purgeIdempotentResults(before: Int64, limit: Int) throws -> Int
}

/// Work that one process at a time does for the whole database.
public enum StoreLease: String, Sendable, Hashable, CaseIterable {
  /// The guest lifecycle sweeper.
  case sweeper
}

/// Conditions of an audit listing.
public struct AuditFilter: Sendable, Hashable {
  /// Only events after this sequence number (ascending) or before it (descending; 0 = from the newest).
  public var cursor: Int64 = 0
  /// Newest first.
  public var newestFirst = false
  /// Only these actions (empty = all).
  public var actions: [AuditAction] = []
  /// Only this actor.
  public var actorID: String?
  /// Only this target.
  public var targetID: String?
  /// Only events at or after this time (ms).
  public var occurredAfter: Int64?
  /// Only events before this time (ms).
  public var occurredBefore: Int64?

  /// No conditions.
  public init() {}
}

/// Store failures the services translate into status codes.
public enum StoreError: Error, Hashable, Sendable {
  /// A uniqueness rule was broken (e.g. a mail already used in the tenant).
  case conflict(String)
  /// Stored data could not be decoded.
  case corrupt(String)
}
