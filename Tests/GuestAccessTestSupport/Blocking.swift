import GuestAccessLocks

#if canImport(Glibc)
import Glibc
#endif

/// Runs a blocking closure (a raw socket call in a test) on a thread of its
/// own, so tests never block the Swift concurrency pool the runtime's timers use.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  // The result comes back through a lock, not through the continuation: when
  // the thread resumes the continuation before the task has suspended (often
  // so under TSan, whose pthread_create waits for the new thread to start),
  // the Swift 6.3 runtime continues the task on a fast path that skips the
  // TSan acquire matching the resume's release (swift_continuation_await with
  // the status already Resumed). TSan then sees no happens-before edge
  // between the thread's work and the caller, and reports e.g. a RawConnection
  // made on the thread and used by the test as a race. The lock is an edge
  // TSan sees on every path.
  let handoff = LockedValue<Result<T, any Error>?>(nil)
  await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
    let box = Unmanaged.passRetained(BlockingBox {
      let result = Result { try body() }
      handoff.withLock { $0 = result }
      continuation.resume()
    })
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { argument in
      Unmanaged<BlockingBox>.fromOpaque(argument!).takeRetainedValue().run()
      return nil
    }, box.toOpaque())
    if rc == 0 {
      pthread_detach(thread)
    } else {
      box.takeRetainedValue().run()
    }
  }
  return try handoff.withLock { $0! }.get()
}

private final class BlockingBox {
  let run: () -> Void
  init(_ run: @escaping () -> Void) { self.run = run }
}
