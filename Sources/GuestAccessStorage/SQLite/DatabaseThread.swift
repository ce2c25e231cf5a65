import Dispatch
import GuestAccessLocks

#if canImport(Glibc)
import Glibc
#endif

/// A dedicated thread that runs database work, so no SQLite call ever blocks
/// the Swift concurrency pool. Jobs are taken in batches: everything queued
/// when the thread wakes is handed to `process` at once (the writer turns a
/// batch into one transaction: group commit).
final class DatabaseThread<Job: Sendable>: @unchecked Sendable {
  private struct Queue {
    var jobs: [Job] = []
    var stopping = false
  }

  private let queue = LockedValue<Queue>(Queue())
  private let wakeup = DispatchSemaphore(value: 0)
  private let process: ([Job]) -> Void
  private let maxBatch: Int
  private let done = DispatchSemaphore(value: 0)

  /// Starts a thread named `name` calling `process` with batches of at most `maxBatch` jobs.
  init(name: String, maxBatch: Int, process: @escaping ([Job]) -> Void) {
    self.process = process
    self.maxBatch = maxBatch
    let started = DetachedThread.start(name: name) { [self] in run() }
    precondition(started, "cannot start thread \(name)")
  }

  /// Queues a job.
  func submit(_ job: Job) {
    queue.withLock { $0.jobs.append(job) }
    wakeup.signal()
  }

  /// Jobs waiting.
  var backlog: Int { queue.withLock { $0.jobs.count } }

  /// Finishes queued work, then ends the thread.
  func stop() {
    queue.withLock { $0.stopping = true }
    wakeup.signal()
    done.wait()
  }

  private func run() {
    while true {
      wakeup.wait()
      while true {
        let (batch, stopping) = queue.withLock { queue -> ([Job], Bool) in
          let count = min(queue.jobs.count, maxBatch)
          let batch = Array(queue.jobs.prefix(count))
          queue.jobs.removeFirst(count)
          return (batch, queue.stopping)
        }
        if batch.isEmpty {
          if stopping {
            done.signal()
            return
          }
          break
        }
        // Consume the semaphore counts of the jobs taken beyond the first.
        for _ in 1..<batch.count { _ = wakeup.wait(timeout: .now()) }
        process(batch)
      }
    }
  }
}
