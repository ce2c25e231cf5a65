import Foundation
import GuestAccessCore
import GuestAccessTransport
import Synchronization

/// Runs a load plan: workers, each a task preferring one of the client's
/// event loops (so a call and its response stay on one thread), paced by the
/// rate schedule, started and stopped by the concurrency schedule.
public struct LoadRunner: Sendable {
  public let plan: LoadPlan
  public let loops: [EventLoop]
  public let call: LoadCall
  /// Whether to print the progress line on standard error.
  public let showProgress: Bool
  /// Closes the connections (`--duration-stop close` and `ignore`).
  public let closeConnections: @Sendable () -> Void
  /// The same call in the form that needs no task, when it has one; used
  /// when nothing paces the workers (no rate, constant concurrency).
  public let pipelined: PipelinedCall?

  public init(
    plan: LoadPlan, loops: [EventLoop], call: @escaping LoadCall, pipelined: PipelinedCall? = nil, showProgress: Bool,
    closeConnections: @escaping @Sendable () -> Void
  ) {
    self.plan = plan
    self.loops = loops
    self.call = call
    self.pipelined = pipelined
    self.showProgress = showProgress
    self.closeConnections = closeConnections
  }

  /// Whether this run's calls go through `pipelined`.
  public var runsPipelined: Bool { pipelined != nil && plan.rate == nil && plan.concurrency.kind == .const }

  final class Shared: Sendable {
    let issued = Atomic<Int>(0)
    let requestNumber = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
  }

  /// Runs the warm-up, then the measured run.
  public func run() async -> LoadResult {
    let shared = Shared()
    await warmUp(shared)
    let start = ContinuousClock.now
    let end = plan.duration.map { start + $0 }
    let pacer = plan.rate.map(RatePacer.init)
    let progress = showProgress ? Task { await reportProgress(shared: shared, start: start) } : nil
    let stopper = end.flatMap { end in
      plan.durationStop == .wait ? nil : Task { [closeConnections] in
        try? await Task.sleep(until: end, clock: .continuous)
        if !Task.isCancelled { closeConnections() }
      }
    }
    var result: LoadResult
    if let pipelined, runsPipelined {
      result = await runPipelined(pipelined, shared: shared, start: start, end: end, total: plan.total, recording: true)
    } else {
      result = await withTaskGroup(of: LoadResult.self) { group in
        for worker in 0..<plan.workerCount {
          group.addTask(executorPreference: loops[worker % loops.count]) {
            await work(worker: worker, shared: shared, start: start, end: end, pacer: pacer)
          }
        }
        var merged = LoadResult()
        for await result in group { merged.merge(result) }
        return merged
      }
    }
    stopper?.cancel()
    progress?.cancel()
    if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    result.elapsed = start.duration(to: .now)
    result.window = plan.duration.map { min($0, result.elapsed) }
    let allMade = plan.total.map { shared.issued.load(ordering: .relaxed) >= $0 } ?? false
    result.endReason = allMade || end == nil ? "normal" : "timeout"
    result.finish()
    return result
  }

  private func warmUp(_ shared: Shared) async {
    guard plan.warmup > 0 else { return }
    if let pipelined, runsPipelined {
      _ = await runPipelined(pipelined, shared: Shared(), start: .now, end: nil, total: plan.warmup, recording: false)
      return
    }
    let workers = min(plan.workerCount, plan.warmup)
    await withTaskGroup(of: Void.self) { group in
      for worker in 0..<workers {
        group.addTask(executorPreference: loops[worker % loops.count]) {
          for _ in 0..<(plan.warmup / workers) {
            _ = try? await call(worker, shared.requestNumber.add(1, ordering: .relaxed).oldValue)
          }
        }
      }
    }
  }

  private func work(worker: Int, shared: Shared, start: ContinuousClock.Instant, end: ContinuousClock.Instant?, pacer: RatePacer?) async -> LoadResult {
    var result = LoadResult()
    let clock = ContinuousClock()
    let scheduled = plan.concurrency.kind != .const
    while true {
      if scheduled {
        // The concurrency schedule decides when this worker takes part.
        let now = start.duration(to: clock.now).seconds
        if plan.concurrency.value(at: now) <= Double(worker) {
          guard let later = plan.concurrency.firstTime(above: Double(worker), after: now) else { break }
          let wake = start + .nanoseconds(Int64(later * 1e9))
          if let end, wake >= end { break }
          try? await Task.sleep(until: wake, clock: .continuous)
          continue
        }
      }
      let index = shared.issued.add(1, ordering: .relaxed).oldValue
      if let total = plan.total, index >= total { break }
      if let pacer {
        let due = pacer.nextDue()
        guard due.isFinite else { break }
        let instant = start + .nanoseconds(Int64(due * 1e9))
        if let end, instant >= end { break }
        if instant > clock.now { try? await Task.sleep(until: instant, clock: .continuous) }
      }
      if let end, clock.now >= end { break }
      let number = shared.requestNumber.add(1, ordering: .relaxed).oldValue
      let began = clock.now
      var record = CallRecord(worker: worker, offset: start.duration(to: began).nanoseconds, latency: 0, code: .ok, messages: 0, firstMessage: nil)
      var errorText: String?
      do {
        let outcome = try await call(worker, number)
        record.messages = outcome.messages
        record.firstMessage = outcome.firstMessage?.nanoseconds
      } catch {
        let failure = error as? RPCError ?? RPCError(code: .unknown, message: "\(error)")
        record.code = failure.code.status
        errorText = "\(failure.code.name): \(failure.message)"
        shared.errors.add(1, ordering: .relaxed)
      }
      let finished = clock.now
      record.latency = began.duration(to: finished).nanoseconds
      keep(record, error: errorText, finishedAfterEnd: end.map { finished > $0 } ?? false, shared: shared, in: &result)
    }
    return result
  }

  /// Counts a finished call and records it unless `--skipFirst` or
  /// `--duration-stop ignore` leaves it out.
  func keep(_ record: CallRecord, error: String?, finishedAfterEnd: Bool, shared: Shared, in result: inout LoadResult) {
    let completed = shared.completed.add(1, ordering: .relaxed).oldValue
    if completed < plan.skipFirst { return }
    if plan.durationStop == .ignore, finishedAfterEnd { return }
    result.record(record, error: error, countErrors: plan.countErrors)
  }

  private func reportProgress(shared: Shared, start: ContinuousClock.Instant) async {
    while !Task.isCancelled {
      try? await Task.sleep(for: .milliseconds(500))
      let done = shared.completed.load(ordering: .relaxed)
      let seconds = start.duration(to: .now).seconds
      let line = String(
        format: "\r%8d calls  %6.1fs  %10.0f calls/s  %d errors", done, seconds, Double(done) / max(seconds, 1e-9),
        shared.errors.load(ordering: .relaxed))
      FileHandle.standardError.write(Data(line.utf8))
    }
  }
}
