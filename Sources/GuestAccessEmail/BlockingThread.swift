import Dispatch
import GuestAccessLocks

#if canImport(Glibc)
import Glibc
#endif

/// A dedicated pthread that runs blocking work (socket I/O, fsync) one job
/// at a time, so it never occupies a thread of the Swift concurrency pool.
public final class BlockingThread: Sendable {
  private struct State {
    var jobs: [@Sendable () -> Void] = []
    var stopping = false
  }

  private final class Shared: Sendable {
    let state = LockedValue<State>(State())
    let wakeup = DispatchSemaphore(value: 0)
  }

  private let shared = Shared()

  /// Starts the thread.
  public init(name: String) {
    let started = DetachedThread.start(name: name) { [shared] in Self.loop(shared) }
    precondition(started, "cannot start thread \(name)")
  }

  /// Runs `body` on the thread and returns its result. Cancellation does not
  /// interrupt a running job (its own timeouts bound it).
  public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
      let accepted = shared.state.withLock { state -> Bool in
        guard !state.stopping else { return false }
        state.jobs.append {
          do throws(E) {
            continuation.resume(returning: .success(try body()))
          } catch {
            continuation.resume(returning: .failure(error))
          }
        }
        return true
      }
      if accepted {
        shared.wakeup.signal()
      } else {
        // Stopped: run inline rather than never answering (only reachable after stop()).
        do throws(E) {
          continuation.resume(returning: .success(try body()))
        } catch {
          continuation.resume(returning: .failure(error))
        }
      }
    }
    return try result.get()
  }

  /// Lets the thread end after the queued jobs.
  public func stop() {
    shared.state.withLock { $0.stopping = true }
    shared.wakeup.signal()
  }

  private static func loop(_ shared: Shared) {
    while true {
      shared.wakeup.wait()
      while true {
        let (job, stopping) = shared.state.withLock { state -> ((@Sendable () -> Void)?, Bool) in
          (state.jobs.isEmpty ? nil : state.jobs.removeFirst(), state.stopping)
        }
        guard let job else {
          if stopping { return }
          break
        }
        job()
      }
    }
  }
}
