import GuestAccessCore
import GuestAccessTransport
import Synchronization

/// A unary call fixed for a whole run, and the transport whose
/// `UnaryPipeline`s the runner repeats it through.
public struct PipelinedCall: Sendable {
  /// The transport the calls go through.
  public let transport: TCPClientTransport
  /// The call (its metadata with the credential and tenant).
  public let call: UnaryPipeline.Call

  public init(transport: TCPClientTransport, call: UnaryPipeline.Call) {
    self.transport = transport
    self.call = call
  }
}

extension LoadRunner {
  /// Runs the workers as the slots of `UnaryPipeline`s, one pipeline per
  /// connection of the transport (worker `w` is slot `w / n` of pipeline
  /// `w % n`): each keeps one call in flight and starts its next from the
  /// completion of its last, on the connection's loop thread. Nothing is
  /// awaited, allocated or locked per call, so a call costs the framing and
  /// the bookkeeping only: what a load generator must not add to what it
  /// measures.
  func runPipelined(
    _ call: PipelinedCall, shared: Shared, start: ContinuousClock.Instant, end: ContinuousClock.Instant?, total: Int?,
    recording: Bool
  ) async -> LoadResult {
    let connections = min(call.transport.connectionCount, plan.workerCount)
    let run = PipelinedRun(pipelineCount: connections)
    // The run's start and end on the loops' clock, which the pipelines use.
    let clockNow = ContinuousClock.now
    let loopNow = EventLoop.now()
    let startNanos = loopNow &- start.duration(to: clockNow).nanoseconds
    let endNanos = end.map { loopNow &+ clockNow.duration(to: $0).nanoseconds }
    let pipelines = (0..<connections).map { index in
      let workers = Array(stride(from: index, to: plan.workerCount, by: connections))
      let driver = PipelineWorkers(
        runner: self, run: run, workers: workers, shared: shared, start: startNanos, end: endNanos, total: total, recording: recording)
      return call.transport.makePipeline(
        call: call.call,
        depth: workers.count, loop: loops[index % loops.count], driver: driver)
    }
    // `--duration-stop close` and `ignore`: what is in flight at the end is cut off.
    let stopper = end.flatMap { end in
      plan.durationStop == .wait ? nil : Task {
        try? await Task.sleep(until: end, clock: .continuous)
        if !Task.isCancelled { for pipeline in pipelines { pipeline.close() } }
      }
    }
    defer { stopper?.cancel() }
    return await withCheckedContinuation { continuation in
      run.setDone { continuation.resume(returning: $0) }
      for pipeline in pipelines { pipeline.start() }
    }
  }
}

/// One pipelined run: the results of its pipelines as they finish.
private final class PipelinedRun: Sendable {
  private struct State {
    var merged = LoadResult()
    var remaining: Int
    var done: (@Sendable (LoadResult) -> Void)?
  }
  private let state: Mutex<State>

  init(pipelineCount: Int) {
    state = Mutex(State(remaining: pipelineCount))
  }

  /// Sets what takes the merged result (before any pipeline starts).
  func setDone(_ done: @escaping @Sendable (LoadResult) -> Void) {
    state.withLock { $0.done = done }
  }

  /// A pipeline finished with `result`; the last one hands over the merged result.
  func finished(_ result: LoadResult) {
    let done = state.withLock { state -> (LoadResult, @Sendable (LoadResult) -> Void)? in
      state.merged.merge(result)
      state.remaining -= 1
      guard state.remaining == 0, let done = state.done else { return nil }
      return (state.merged, done)
    }
    if let (merged, body) = done { body(merged) }
  }
}

/// The workers of one pipeline: its slots. The pipeline calls it on its
/// loop thread only, so its result needs no lock.
private final class PipelineWorkers: UnaryPipelineDriver, @unchecked Sendable {
  private let runner: LoadRunner
  private let run: PipelinedRun
  /// The worker number of each slot.
  private let workers: [Int]
  private let shared: LoadRunner.Shared
  /// The run's start and end on the loops' clock (nanoseconds).
  private let start: UInt64
  private let end: UInt64?
  private let total: Int?
  private let recording: Bool
  @exclusivity(unchecked) private var result = LoadResult()

  init(
    runner: LoadRunner, run: PipelinedRun, workers: [Int], shared: LoadRunner.Shared, start: UInt64, end: UInt64?, total: Int?,
    recording: Bool
  ) {
    self.runner = runner
    self.run = run
    self.workers = workers
    self.shared = shared
    self.start = start
    self.end = end
    self.total = total
    self.recording = recording
  }

  func shouldStart(slot: Int, now: UInt64) -> Bool {
    let issued = shared.issued.add(1, ordering: .relaxed).oldValue
    if let total, issued >= total { return false }
    if let end, now >= end { return false }
    return true
  }

  func ended(_ outcome: UnaryPipeline.Outcome) {
    guard recording else {
      shared.completed.add(1, ordering: .relaxed)
      return
    }
    var record = CallRecord(
      worker: workers[outcome.slot], offset: outcome.began > start ? outcome.began - start : 0,
      latency: outcome.ended - outcome.began, code: .ok, messages: 1, firstMessage: nil)
    var errorText: String?
    if let failure = outcome.error {
      record.code = failure.code.status
      errorText = "\(failure.code.name): \(failure.message)"
      record.messages = 0
      shared.errors.add(1, ordering: .relaxed)
    }
    runner.keep(record, error: errorText, finishedAfterEnd: end.map { outcome.ended > $0 } ?? false, shared: shared, in: &result)
  }

  func finished() {
    run.finished(result)
  }
}
