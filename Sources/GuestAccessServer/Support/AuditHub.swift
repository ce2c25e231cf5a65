import GuestAccessLocks
import GuestAccessProto
import Synchronization

/// Wakes WatchAuditEvents streams when audit events of their scope commit.
///
/// The hub carries no events: a woken stream reads the store from the last
/// sequence it delivered. The store is the only buffer, so a reader of any
/// speed gets every event, in sequence order and without gaps; wake-ups
/// coalesce (at most one is pending per stream), so a slow reader costs one
/// store read per page it takes, never memory in the server.
public final class AuditHub: Sendable {
  private struct Watcher {
    /// The tenant watched; nil = every tenant (the operator).
    let tenantID: String?
    let continuation: AsyncStream<Void>.Continuation
  }

  private let watchers = LockedValue<[UInt64: Watcher]>([:])
  private let nextID = Atomic<UInt64>(0)

  /// Creates a hub.
  public init() {}

  /// Wakes the streams watching the tenants of `events` (after their transaction committed).
  public func publish(_ events: [AuditEvent]) {
    guard !events.isEmpty else { return }
    publish(tenantIDs: Set(events.map(\.tenantID)))
  }

  /// Wakes the streams watching `tenantIDs` (nil = every stream): events of
  /// theirs committed, here or in another guestd sharing the database.
  public func publish(tenantIDs tenants: Set<String>?) {
    let targets = watchers.withLock {
      $0.values.filter { watcher in
        guard let tenants, let watched = watcher.tenantID else { return true }
        return tenants.contains(watched)
      }
    }
    for watcher in targets { watcher.continuation.yield(()) }
  }

  /// Subscribes to wake-ups for a tenant's new events (nil = every tenant).
  func subscribe(tenantID: String?) -> (id: UInt64, wakeUps: AsyncStream<Void>) {
    let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let id = nextID.add(1, ordering: .relaxed).newValue
    watchers.withLock { $0[id] = Watcher(tenantID: tenantID, continuation: continuation) }
    return (id, stream)
  }

  /// Ends a subscription.
  func unsubscribe(_ id: UInt64) {
    let watcher = watchers.withLock { $0.removeValue(forKey: id) }
    watcher?.continuation.finish()
  }

  /// Ends every subscription (server shutdown).
  public func finishAll() {
    let all = watchers.withLock { watchers -> [Watcher] in
      defer { watchers.removeAll() }
      return Array(watchers.values)
    }
    for watcher in all { watcher.continuation.finish() }
  }
}
