import Dispatch

/// A dedicated pthread that runs queued jobs, so blocking work (SQLite,
/// socket I/O, fsync) never occupies a thread of the Swift concurrency pool.
/// Jobs are taken in batches: everything queued when the thread wakes, up to
/// `maxBatch`, is handed to `process` at once (the SQLite writer turns a batch
/// into one transaction: group commit). The one job queue of the project:
/// the database threads and `BlockingThread` are built on it.
public final class JobThread<Job: Sendable>: @unchecked Sendable {
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
  public init(name: String, maxBatch: Int, process: @escaping ([Job]) -> Void) {
    self.process = process
    self.maxBatch = max(1, maxBatch)
    let started = DetachedThread.start(name: name) { [self] in run() }
    precondition(started, "cannot start thread \(name)")
  }

  /// Queues a job; false (the job is not queued) once `stop` was called.
  @discardableResult
  public func submit(_ job: Job) -> Bool {
    let accepted = queue.withLock { queue -> Bool in
      guard !queue.stopping else { return false }
      queue.jobs.append(job)
      return true
    }
    if accepted { wakeup.signal() }
    return accepted
  }

  /// Jobs waiting.
  public var backlog: Int { queue.withLock { $0.jobs.count } }

  /// Lets the thread finish the queued jobs and end; with `wait`, returns
  /// only once it has (never from the thread itself).
  public func stop(wait: Bool = true) {
    queue.withLock { $0.stopping = true }
    wakeup.signal()
    if wait { done.wait() }
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
