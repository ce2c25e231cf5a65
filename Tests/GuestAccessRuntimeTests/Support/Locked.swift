import GuestAccessLocks

/// A value behind a lock that closures can share.
final class Locked<Value: Sendable>: Sendable {
  private let mutex: LockedValue<Value>

  init(_ value: Value) {
    mutex = LockedValue(value)
  }

  /// Runs `body` with the value locked.
  func withLock<R>(_ body: (inout Value) -> R) -> R {
    mutex.withLock { body(&$0) }
  }

  /// The value now.
  var value: Value { mutex.withLock { $0 } }
}
