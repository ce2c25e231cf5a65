import GuestAccessLocks
import GuestAccessStorage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL implementation of `DirectoryStore`, for several guestd on
/// one database.
///
/// - Transactions run concurrently on a pool of sessions (one thread each):
///   reads in REPEATABLE READ snapshots, writes in READ COMMITTED with the
///   rows they read locked; a write is run again after a serialization
///   failure or deadlock (40001, 40P01) or a uniqueness conflict (once: it
///   then sees the row that was in the way).
/// - Audit events are stored under provisional numbers and numbered by the
///   last statement before COMMIT, sent with it in one round trip: the
///   counter row it takes is locked only while the commit is flushed, so
///   numbers commit in order (a watcher never skips one) without write
///   transactions waiting for each other; commits NOTIFY `guestaccess_audit`.
/// - Rate windows are counted by an atomic upsert committed at once on a
///   session of its own, without waiting for its flush (so no transaction
///   holds a tenant's window row for longer than the upsert), and taken back
///   if the transaction that counted rolls back.
/// - Tenant rows (tenant, settings, domains, cross-tenant entries) are read
///   `FOR SHARE` in writes: every write of a tenant reads them, few change them.
/// - Changes to what authentication reads move a shared generation in the same
///   transaction and NOTIFY `guestaccess_auth`: every guestd drops its cached
///   principals. While its listener is disconnected, `authGeneration` never
///   repeats, so no principal is served from the cache.
/// - Leases (the sweeper) are session advisory locks (`pg_try_advisory_lock`)
///   on a session of their own: released when the process dies.
public final class PostgresDirectoryStore: DirectoryStore {
  private let pool: PGPool
  private let leaseSession: PGPool
  /// Sessions that add to rate windows, each count committed at once.
  private let counters: PGPool
  private let listener: PGListener
  private let generation: Shared
  private let onCommit: @Sendable (Int, Duration) -> Void

  /// What the threads share.
  private final class Shared: Sendable {
    let value = Atomic<UInt64>(0)
    /// Values handed out while the listener is down: each one is new.
    let uncached = Atomic<UInt64>(0)
    let auditObservers = LockedValue<[@Sendable (Set<String>?) -> Void]>([])
    let heldLeases = LockedValue<(session: Int, leases: Set<StoreLease>)>((0, []))

    func bump() { value.add(1, ordering: .releasing) }

    func audited(_ tenants: Set<String>?) {
      for observer in auditObservers.withLock({ $0 }) { observer(tenants) }
    }
  }

  /// Connects to `uri` (handed to libpq as is), applies the migrations and
  /// starts `connections` session threads, the listener and the lease session.
  public init(uri: String, connections: Int = 8, onCommit: @escaping @Sendable (Int, Duration) -> Void = { _, _ in }) throws {
    try PGMigrator.migrate(uri: uri)
    self.onCommit = onCommit
    pool = try PGPool(uri: uri, size: connections, name: "ga-pg")
    leaseSession = try PGPool(uri: uri, size: 1, name: "ga-pg-lease")
    // A count's commit does not wait for its WAL flush, so the window's row
    // is locked only while the upsert runs (not for a flush each): the
    // count is durable before the call is answered all the same, since the
    // call's own commit comes later in the WAL and waits for its flush.
    counters = try PGPool(
      uri: uri, size: max(2, connections / 2), name: "ga-pg-count", setup: "SET synchronous_commit = off")
    let shared = Shared()
    generation = shared
    listener = PGListener(
      uri: uri, channels: [Self.authChannel, Self.auditChannel],
      onListening: {
        // Whatever was missed while disconnected: drop every cached principal, wake every watcher.
        shared.bump()
        shared.audited(nil)
      },
      onNotification: { channel, payload in
        if channel == Self.authChannel {
          shared.bump()
        } else {
          shared.audited([payload])
        }
      })
  }

  static let authChannel = "guestaccess_auth"
  static let auditChannel = "guestaccess_audit"

  public func read<T: Sendable>(_ body: @escaping @Sendable (any DirectoryReader) throws -> T) async throws -> T {
    try await pool.run { connection in
      var attempt = 0
      while true {
        attempt += 1
        do {
          try connection.reconnectIfNeeded()
          // Sent with the first query.
          connection.enqueue(command: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
          let result = try body(PGDirectory(connection, state: nil))
          try connection.execute("COMMIT")
          return result
        } catch {
          connection.rollback()
          // A read changes nothing: run it again on a fresh session.
          if let failure = error as? PGError, failure.connectionLost, attempt < 2 { continue }
          throw error
        }
      }
    }
  }

  public func write<T: Sendable>(_ body: @escaping @Sendable (any DirectoryWriter) throws -> T) async throws -> T {
    let shared = generation
    let onCommit = self.onCommit
    let counters = self.counters
    return try await pool.run { connection in
      try Self.transaction(connection, counters: counters, shared: shared, onCommit: onCommit, body)
    }
  }

  private static func transaction<T>(
    _ connection: PGConnection, counters: PGPool, shared: Shared, onCommit: @Sendable (Int, Duration) -> Void,
    _ body: (any DirectoryWriter) throws -> T
  ) throws -> T {
    var attempt = 0
    while true {
      attempt += 1
      let state = PGTransactionState()
      let started = ContinuousClock.now
      do {
        try connection.reconnectIfNeeded()
        // Sent with the first statement; the writes that need no answer wait
        // for the next one that does, or go with the COMMIT.
        connection.enqueue(command: "BEGIN")
        let result = try body(PGDirectory(connection, state: state, counters: counters))
        let final = PGDirectory.finalStatements(state)
        try connection.commit(after: final.statements, then: final.afterwards)
        if state.invalidatesCaches { shared.bump() }
        if !state.auditTenants.isEmpty { shared.audited(state.auditTenants) }
        onCommit(1, started.duration(to: .now))
        return result
      } catch {
        connection.rollback()
        // Should a failed COMMIT have left anything visible, caches must not trust it.
        if state.invalidatesCaches { shared.bump() }
        let failure = error as? PGError
        // Rate-window counts were committed apart: take them back, unless the
        // outcome is unknown (they then stay, erring on the side of the limit).
        if !state.charges.isEmpty, failure?.duringCommit != true {
          try? counters.runBlocking { try PGDirectory.refund(state.charges, on: $0) }
        }
        if failure?.isSerializationFailure == true && attempt < 10 {
          usleep(UInt32.random(in: 500...2000) * UInt32(attempt))
          continue
        }
        if (state.sawConflict || failure?.isUniqueViolation == true) && attempt < 2 { continue }
        // Lost before COMMIT was sent: nothing was written, run it again on a new session.
        if let failure, failure.connectionLost, !failure.duringCommit, attempt < 3 { continue }
        if let failure, failure.isUniqueViolation {
          throw StoreError.conflict(state.uniqueWrites[failure.sql ?? ""] ?? "a unique value is already in use")
        }
        throw error
      }
    }
  }

  public var authGeneration: UInt64 {
    guard listener.isListening else {
      // No notifications: every value is new, so no cached principal is trusted.
      return (1 << 63) | generation.uncached.add(1, ordering: .relaxed).newValue
    }
    return generation.value.load(ordering: .acquiring)
  }

  public func checkWritable() async -> Bool {
    do {
      return try await pool.run { connection in
        try connection.reconnectIfNeeded()
        return try connection.first("SELECT current_setting('transaction_read_only')") { $0.text(0) } == "off"
      }
    } catch {
      return false
    }
  }

  public var writeBacklog: Int { pool.backlog }

  public func holdsLease(_ lease: StoreLease) async -> Bool {
    let shared = generation
    do {
      return try await leaseSession.run { connection in
        try connection.reconnectIfNeeded()
        let session = connection.sessionNumber
        let held = shared.heldLeases.withLock { held -> Bool in
          if held.session != session { held = (session, []) }  // a new session holds nothing
          return held.leases.contains(lease)
        }
        if held {
          // Still connected, so still held.
          _ = try connection.first("SELECT 1") { $0.int64(0) }
          return true
        }
        let taken = try connection.first("SELECT pg_try_advisory_lock($1)", [.integer(Self.leaseKey(lease))]) { $0.int64(0) } == 1
        if taken { shared.heldLeases.withLock { _ = $0.leases.insert(lease) } }
        return taken
      }
    } catch {
      return false
    }
  }

  /// The advisory lock key of a lease: "GA" and a number per lease.
  static func leaseKey(_ lease: StoreLease) -> Int64 {
    switch lease {
    case .sweeper: return 0x4741_0000_0000_0001
    }
  }

  public func observeAuditCommits(_ handler: @escaping @Sendable (Set<String>?) -> Void) {
    generation.auditObservers.withLock { $0.append(handler) }
  }

  public func close() {
    listener.stop()
    pool.close()
    leaseSession.close()
    counters.close()
  }
}
