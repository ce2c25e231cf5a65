#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("LockedValue needs pthreads")
#endif

/// A value shared between threads behind a `pthread_mutex_t`: the project's
/// replacement for `Synchronization.Mutex`, with the same `withLock` shape.
///
/// Why not `Mutex`: on Linux, when contended, it waits and hands over the lock
/// with futex system calls that ThreadSanitizer does not intercept, so TSan
/// sees no happens-before edge between two critical sections and reports the
/// accesses under the lock as races. TSan intercepts `pthread_mutex_lock` and
/// `pthread_mutex_unlock`, so under `LockedValue` it checks what the lock
/// really orders (docs/RELIABILITY.md, "Sanitizers"). Uncontended, a pthread
/// mutex costs about what `Mutex` costs (one atomic exchange each way).
///
/// `LockedValue` is a reference, like swift-nio's `NIOLockedValueBox`: copies
/// share one lock and one value. The value and the lock live in a single heap
/// allocation made by `init`; locking allocates nothing. The mutex is not
/// recursive: calling `withLock` on the same `LockedValue` from inside `body`
/// deadlocks.
public struct LockedValue<Value>: @unchecked Sendable {
  // Sendable for any `Value` for the reason `Mutex` is: the value goes in as
  // `sending`, and leaves only through `withLock`'s `sending` parameter and
  // result, which region-based isolation checks at every call site.
  @usableFromInline
  let storage: LockedValueStorage<Value>

  /// A new lock holding `initialValue`.
  @inlinable
  public init(_ initialValue: sending Value) {
    storage = LockedValueStorage.create(initialValue)
  }

  /// Runs `body` with the lock held and exclusive access to the value; returns
  /// what `body` returns and rethrows what it throws (the lock is released
  /// either way).
  @inlinable
  public func withLock<Result: ~Copyable, E: Error>(
    _ body: (inout sending Value) throws(E) -> sending Result
  ) throws(E) -> sending Result {
    // `self` is borrowed for the whole call, so `storage` (and the addresses
    // below, which never move) outlives `body`.
    let mutex = storage.mutex
    let rc = pthread_mutex_lock(mutex)
    precondition(rc == 0, "pthread_mutex_lock failed: \(rc)")
    defer { pthread_mutex_unlock(mutex) }
    return try body(&storage.value.pointee)
  }

  /// Runs `body` with the lock held if no thread holds it now; returns `nil`
  /// at once, without running `body`, otherwise.
  @inlinable
  public func withLockIfAvailable<Result: ~Copyable, E: Error>(
    _ body: (inout sending Value) throws(E) -> sending Result
  ) throws(E) -> sending Result? {
    let mutex = storage.mutex
    guard pthread_mutex_trylock(mutex) == 0 else { return nil }
    defer { pthread_mutex_unlock(mutex) }
    return try body(&storage.value.pointee)
  }
}

/// The value (the header) and the `pthread_mutex_t` (the one tail element) of
/// a `LockedValue`, in one allocation; neither moves while the object lives.
@usableFromInline
final class LockedValueStorage<Value>: ManagedBuffer<Value, pthread_mutex_t> {
  @inlinable
  static func create(_ value: sending Value) -> LockedValueStorage<Value> {
    let buffer = create(minimumCapacity: 1) { _ in value }
    let storage = unsafeDowncast(buffer, to: LockedValueStorage<Value>.self)
    let mutex = storage.mutex
    mutex.initialize(to: pthread_mutex_t())
    let rc = pthread_mutex_init(mutex, nil)
    precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    return storage
  }

  /// The mutex's address.
  @inlinable
  var mutex: UnsafeMutablePointer<pthread_mutex_t> {
    withUnsafeMutablePointerToElements { $0 }
  }

  /// The value's address.
  @inlinable
  var value: UnsafeMutablePointer<Value> {
    withUnsafeMutablePointerToHeader { $0 }
  }

  deinit {
    // The header (the value) is destroyed by ManagedBuffer; the element is ours.
    let rc = pthread_mutex_destroy(mutex)
    precondition(rc == 0, "pthread_mutex_destroy failed: \(rc) (destroyed while locked?)")
    mutex.deinitialize(count: 1)
  }
}
