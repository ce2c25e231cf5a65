import Foundation
import GuestAccessClient
import GuestAccessTransport
import Histogram
import Synchronization

/// How much load to generate.
struct LoadPlan: Sendable {
  var concurrency: Int
  var total: Int?
  var duration: Duration?
  var rps: Double
  var warmup: Int
}

/// Runs workers, each a task preferring one of the client's event loops (so a
/// call and its response stay on one thread), and collects latencies.
struct LoadRunner: Sendable {
  let plan: LoadPlan
  let loops: [EventLoop]
  let call: @Sendable () async throws -> Void
  let showProgress: Bool

  private final class Shared: Sendable {
    let issued = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
  }

  func run() async -> LoadReport {
    // Warm-up (not measured).
    await withTaskGroup(of: Void.self) { group in
      let perWorker = max(1, plan.warmup / max(1, plan.concurrency))
      for worker in 0..<min(plan.concurrency, max(1, plan.warmup)) {
        group.addTask(executorPreference: loops[worker % loops.count]) {
          for _ in 0..<perWorker { try? await call() }
        }
      }
    }
    let shared = Shared()
    let start = ContinuousClock.now
    let end = plan.duration.map { start + $0 }
    let total = plan.total
    let interval: Duration? = plan.rps > 0 ? .microseconds(Int64(1_000_000 / plan.rps)) : nil
    let progress = showProgress ? Task { await reportProgress(shared: shared, start: start) } : nil
    let results = await withTaskGroup(of: WorkerResult.self) { group in
      for worker in 0..<plan.concurrency {
        group.addTask(executorPreference: loops[worker % loops.count]) {
          var result = WorkerResult()
          let clock = ContinuousClock()
          while true {
            let index = shared.issued.add(1, ordering: .relaxed).oldValue
            if let total, index >= total { break }
            if let interval {
              let due = start + interval * index
              if due > clock.now { try? await Task.sleep(until: due, clock: .continuous) }
            }
            if let end, clock.now >= end { break }
            let began = clock.now
            do {
              try await call()
              result.record(began.duration(to: clock.now), code: .ok)
            } catch let error as RPCError {
              result.record(began.duration(to: clock.now), code: error.code)
              shared.errors.add(1, ordering: .relaxed)
            } catch {
              result.record(began.duration(to: clock.now), code: .unknown)
              shared.errors.add(1, ordering: .relaxed)
            }
            shared.completed.add(1, ordering: .relaxed)
          }
          return result
        }
      }
      var merged = WorkerResult()
      for await result in group { merged.merge(result) }
      return merged
    }
    progress?.cancel()
    if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    return LoadReport(result: results, elapsed: start.duration(to: .now))
  }

  private func reportProgress(shared: Shared, start: ContinuousClock.Instant) async {
    while !Task.isCancelled {
      try? await Task.sleep(for: .milliseconds(500))
      let done = shared.completed.load(ordering: .relaxed)
      let elapsed = start.duration(to: .now)
      let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      let line = String(format: "\r%8d calls  %6.1fs  %10.0f calls/s  %d errors", done, seconds, Double(done) / max(seconds, 1e-9),
                        shared.errors.load(ordering: .relaxed))
      FileHandle.standardError.write(Data(line.utf8))
    }
  }
}

/// Latencies and status codes of one or more workers.
struct WorkerResult: Sendable {
  var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
  var codes: [StatusCode: Int] = [:]

  mutating func record(_ latency: Duration, code: StatusCode) {
    let nanos = UInt64(max(0, latency.components.seconds)) * 1_000_000_000 + UInt64(max(0, latency.components.attoseconds) / 1_000_000_000)
    _ = histogram.record(min(nanos, 60_000_000_000))
    codes[code, default: 0] += 1
  }

  mutating func merge(_ other: WorkerResult) {
    histogram.add(other.histogram)
    for (code, count) in other.codes { codes[code, default: 0] += count }
  }
}
