import GuestAccessCore
import GuestAccessTransport
import Synchronization

/// A unary call fixed for a whole run (path, metadata, encoded request,
/// timeout), which the runner can start without a task through
/// `TCPClientTransport.startUnary`.
public struct PipelinedCall: Sendable {
  /// The transport the calls go through.
  public let transport: TCPClientTransport
  /// The method path.
  public let path: String
  /// The request metadata (credential and tenant included).
  public let metadata: Metadata
  /// The encoded request message.
  public let request: [UInt8]
  /// Each call's timeout (nil: none).
  public let timeout: Duration?

  public init(transport: TCPClientTransport, path: String, metadata: Metadata, request: [UInt8], timeout: Duration?) {
    self.transport = transport
    self.path = path
    self.metadata = metadata
    self.request = request
    self.timeout = timeout
  }
}

extension LoadRunner {
  /// Runs the workers as callbacks instead of tasks: each keeps one call in
  /// flight and starts its next from the completion of the last, on the
  /// connection's loop thread. Nothing is awaited per call, so a call costs
  /// the framing and the bookkeeping only: what a load generator must not
  /// add to what it measures.
  func runPipelined(
    _ call: PipelinedCall, shared: Shared, start: ContinuousClock.Instant, end: ContinuousClock.Instant?, total: Int?,
    recording: Bool
  ) async -> LoadResult {
    await withCheckedContinuation { continuation in
      let run = PipelinedRun(
        runner: self, call: call, shared: shared, start: start, end: end, total: total, recording: recording,
        done: { continuation.resume(returning: $0) })
      for worker in 0..<plan.workerCount {
        loops[worker % loops.count].execute { run.next(worker) }
      }
    }
  }
}

/// One pipelined run: its workers' results and how many are still going.
private final class PipelinedRun: @unchecked Sendable {
  /// A worker's state. A worker has at most one call in flight and touches
  /// its state only from that call's start and completion, which the
  /// connection's lock orders; so it needs no lock of its own.
  private final class Worker: @unchecked Sendable {
    var result = LoadResult()
    var began = ContinuousClock.Instant.now
  }

  private let runner: LoadRunner
  private let call: PipelinedCall
  private let shared: LoadRunner.Shared
  private let start: ContinuousClock.Instant
  private let end: ContinuousClock.Instant?
  private let total: Int?
  private let recording: Bool
  private let workers: [Worker]
  private let remaining: Atomic<Int>
  private let done: @Sendable (LoadResult) -> Void

  init(
    runner: LoadRunner, call: PipelinedCall, shared: LoadRunner.Shared, start: ContinuousClock.Instant,
    end: ContinuousClock.Instant?, total: Int?, recording: Bool, done: @escaping @Sendable (LoadResult) -> Void
  ) {
    self.runner = runner
    self.call = call
    self.shared = shared
    self.start = start
    self.end = end
    self.total = total
    self.recording = recording
    self.done = done
    workers = (0..<runner.plan.workerCount).map { _ in Worker() }
    remaining = Atomic(workers.count)
  }

  /// Starts worker `index`'s next call, or ends the worker when the run is over.
  func next(_ index: Int) {
    let issued = shared.issued.add(1, ordering: .relaxed).oldValue
    let now = ContinuousClock.now
    if let total, issued >= total { return finished() }
    if let end, now >= end { return finished() }
    let worker = workers[index]
    worker.began = now
    call.transport.startUnary(
      path: call.path, metadata: call.metadata, deadline: call.timeout.map { now + $0 }, request: call.request
    ) { [self] outcome in
      completed(index, worker, outcome)
    }
  }

  private func completed(_ index: Int, _ worker: Worker, _ outcome: Result<[UInt8], RPCError>) {
    let finishedAt = ContinuousClock.now
    if recording {
      var record = CallRecord(
        worker: index, offset: start.duration(to: worker.began).nanoseconds, latency: worker.began.duration(to: finishedAt).nanoseconds,
        code: .ok, error: nil, messages: 1, firstMessage: nil)
      if case .failure(let failure) = outcome {
        record.code = failure.code.status
        record.error = "\(failure.code.name): \(failure.message)"
        record.messages = 0
        shared.errors.add(1, ordering: .relaxed)
      }
      runner.keep(record, finished: finishedAt, end: end, shared: shared, in: &worker.result)
    } else {
      shared.completed.add(1, ordering: .relaxed)
    }
    if case .failure = outcome {
      // A call that failed at once (a closed connection) completes on the
      // starting thread: go on from the loop, not deeper into this stack.
      runner.loops[index % runner.loops.count].execute { [self] in next(index) }
    } else {
      next(index)
    }
  }

  private func finished() {
    guard remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
    var merged = LoadResult()
    for worker in workers { merged.merge(worker.result) }
    done(merged)
  }
}
