import GuestAccessLocks
import GuestAccessProto
import Synchronization

/// Fans committed audit events out to WatchAuditEvents streams.
public final class AuditHub: Sendable {
  private struct Watcher {
    let tenantID: String
    let continuation: AsyncStream<AuditEvent>.Continuation
  }

  private let watchers = LockedValue<[UInt64: Watcher]>([:])
  private let nextID = Atomic<UInt64>(0)
  /// Events a watcher may fall behind before it is ended.
  static let bufferLimit = 10_000

  /// Creates a hub.
  public init() {}

  /// Publishes events after their transaction committed.
  public func publish(_ events: [AuditEvent]) {
    guard !events.isEmpty else { return }
    let targets = watchers.withLock { Array($0.values) }
    for event in events {
      for watcher in targets where watcher.tenantID == event.tenantID {
        watcher.continuation.yield(event)
      }
    }
  }

  /// Subscribes to a tenant's new events.
  func subscribe(tenantID: String) -> (id: UInt64, stream: AsyncStream<AuditEvent>) {
    let (stream, continuation) = AsyncStream<AuditEvent>.makeStream(bufferingPolicy: .bufferingOldest(Self.bufferLimit))
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
