import GuestAccessLocks

/// Records what test handlers went through ("started:a", "cancelled:a"...),
/// so tests can wait for a handler to reach a point or to see cancellation.
final class Probe: Sendable {
  private let events = LockedValue<[String]>([])

  /// Records an event.
  func record(_ event: String) {
    events.withLock { $0.append(event) }
  }

  /// Every event so far, in order.
  var all: [String] { events.withLock { $0 } }

  /// How many events equal `event`.
  func count(_ event: String) -> Int {
    events.withLock { $0.count { $0 == event } }
  }

  /// How many events start with `prefix`.
  func count(prefix: String) -> Int {
    events.withLock { $0.count { $0.hasPrefix(prefix) } }
  }

  /// Waits until `event` was recorded; returns whether it was within `timeout`.
  func wait(for event: String, timeout: Duration = .seconds(5)) async -> Bool {
    await eventually(timeout: timeout) { count(event) > 0 }
  }

  /// Waits until `count` events start with `prefix`.
  func wait(prefix: String, count: Int, timeout: Duration = .seconds(5)) async -> Bool {
    await eventually(timeout: timeout) { self.count(prefix: prefix) >= count }
  }
}
