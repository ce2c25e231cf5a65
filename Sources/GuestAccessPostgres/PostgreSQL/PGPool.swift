import Dispatch
import GuestAccessLocks

/// A fixed set of PostgreSQL sessions, each owned by a dedicated thread
/// (`DetachedThread`), so that no blocking libpq call ever runs on the Swift
/// concurrency pool. Jobs wait in one shared queue: the first free session
/// takes the next job.
public final class PGPool: Sendable {
  private struct Job: @unchecked Sendable {
    let run: (PGConnection) -> Void
  }

  private struct Queue {
    var jobs: [Job] = []
    var stopping = false
    var running = 0
  }

  private let queue = LockedValue<Queue>(Queue())
  private let wakeup = DispatchSemaphore(value: 0)
  private let finished = DispatchSemaphore(value: 0)
  private let size: Int

  /// Opens `size` sessions to `uri` (failing if the first cannot connect),
  /// each running `setup` first, and starts their threads.
  public init(uri: String, size: Int, name: String, setup: String = "") throws {
    self.size = max(1, size)
    var connections: [PGConnection] = []
    for _ in 0..<self.size { connections.append(try PGConnection(uri: uri, setup: setup)) }
    for (index, connection) in connections.enumerated() {
      let owned = UncheckedBox(connection)
      let started = DetachedThread.start(name: "\(name)-\(index)") { [self] in serve(owned.value) }
      precondition(started, "cannot start thread \(name)-\(index)")
    }
  }

  /// Runs `body` on a session's thread; it sees the session as it is (reconnect first with `reconnectIfNeeded()`).
  public func run<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      let job = Job { connection in
        do {
          continuation.resume(returning: try body(connection))
        } catch {
          continuation.resume(throwing: error)
        }
      }
      let accepted = queue.withLock { queue -> Bool in
        guard !queue.stopping else { return false }
        queue.jobs.append(job)
        return true
      }
      if accepted {
        wakeup.signal()
      } else {
        continuation.resume(throwing: PGError(sqlState: "57P01", message: "the database pool is closed", connectionLost: true))
      }
    }
  }

  /// Runs `body` on a session's thread and waits for it, blocking the calling
  /// thread: for another pool's session thread (never this pool's own, nor
  /// the Swift concurrency pool).
  public func runBlocking<T>(_ body: @escaping (PGConnection) throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    // Written by the session thread before `done` is signalled, read after the wait.
    let outcome = ResultSlot<T>()
    let job = Job { connection in
      outcome.result = Result { try body(connection) }
      done.signal()
    }
    let accepted = queue.withLock { queue -> Bool in
      guard !queue.stopping else { return false }
      queue.jobs.append(job)
      return true
    }
    guard accepted else { throw PGError(sqlState: "57P01", message: "the database pool is closed", connectionLost: true) }
    wakeup.signal()
    done.wait()
    return try outcome.result!.get()
  }

  /// Jobs waiting for a session.
  public var backlog: Int { queue.withLock { $0.jobs.count } }

  /// Finishes queued jobs, then ends the threads and closes the sessions.
  public func close() {
    let first = queue.withLock { queue -> Bool in
      defer { queue.stopping = true }
      return !queue.stopping
    }
    guard first else { return }
    for _ in 0..<size { wakeup.signal() }
    for _ in 0..<size { finished.wait() }
  }

  private func serve(_ connection: PGConnection) {
    while true {
      wakeup.wait()
      let (job, stopping) = queue.withLock { queue -> (Job?, Bool) in
        (queue.jobs.isEmpty ? nil : queue.jobs.removeFirst(), queue.stopping)
      }
      if let job {
        job.run(connection)
        continue
      }
      if stopping {
        // Wake a sibling that may still be waiting, then leave.
        wakeup.signal()
        finished.signal()
        return
      }
    }
  }
}

/// The result of a job handed back through a semaphore.
private final class ResultSlot<T> {
  var result: Result<T, any Error>?
}

/// Hands a non-Sendable value to the one thread that will own it.
struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
