/// A dedicated pthread that runs blocking work (socket I/O, an HTTP fetch)
/// one job at a time for async callers: a `JobThread` of closures.
public final class BlockingThread: Sendable {
  private let thread: JobThread<@Sendable () -> Void>

  /// Starts the thread.
  public init(name: String) {
    thread = JobThread(name: name, maxBatch: 1) { jobs in
      for job in jobs { job() }
    }
  }

  /// Runs `body` on the thread and returns its result. Cancellation does not
  /// interrupt a running job (its own timeouts bound it). After `stop`,
  /// `body` runs on the caller's thread rather than never answering.
  public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
      let job: @Sendable () -> Void = {
        do throws(E) {
          continuation.resume(returning: .success(try body()))
        } catch {
          continuation.resume(returning: .failure(error))
        }
      }
      if !thread.submit(job) { job() }
    }
    return try result.get()
  }

  /// Lets the thread end after the queued jobs (without waiting for them).
  public func stop() {
    thread.stop(wait: false)
  }
}
