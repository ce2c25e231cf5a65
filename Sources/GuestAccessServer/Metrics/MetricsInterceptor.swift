import CoreMetrics
import GuestAccessCore
import GuestAccessLocks
import Synchronization

/// Records, for every call: `guestaccess_rpc_requests_total{method,code}`,
/// `guestaccess_rpc_duration_seconds{method}` and the in-flight gauge
/// `guestaccess_rpc_in_flight`. Uses the swift-metrics API; the backend is
/// chosen by the executable. Metric handles are made once per method and
/// code and reused (making one costs a registry look-up).
public struct MetricsInterceptor: SynchronousServerInterceptor {
  private let inFlight = InFlightCounter()
  private let handles = MetricHandles()

  /// Creates the interceptor.
  public init() {}

  public func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
    let started = callStarted()
    do {
      try await next(context)
    } catch {
      callEnded(context, since: started, throwing: error)
      throw error
    }
    callEnded(context, since: started, throwing: nil)
  }

  public func interceptSynchronously(context: ServerContext, next: (ServerContext) throws -> Void) throws {
    let started = callStarted()
    do {
      try next(context)
    } catch {
      callEnded(context, since: started, throwing: error)
      throw error
    }
    callEnded(context, since: started, throwing: nil)
  }

  /// The first half of both forms: the call is in flight from now.
  @inline(__always)
  private func callStarted() -> ContinuousClock.Instant {
    let started = ContinuousClock.now
    inFlight.change(+1)
    return started
  }

  /// The second half of both forms: the call's outcome (OK unless it threw
  /// `error`) and duration are recorded, and it is no longer in flight.
  @inline(__always)
  private func callEnded(_ context: ServerContext, since started: ContinuousClock.Instant, throwing error: (any Error)?) {
    let code: StatusCode = if let error { Self.code(of: error) } else { .ok }
    handles.record(method: context.method.path, code: code, since: started)
    inFlight.change(-1)
  }

  /// The status a call that threw `error` ends with (as `RPCServer` maps it).
  private static func code(of error: any Error) -> StatusCode {
    switch error {
    case let error as RPCError: error.code.status
    case is CancellationError: .cancelled
    default: .unknown
    }
  }
}

/// Counters and timers per method (and code), created on first use.
final class MetricHandles: Sendable {
  private struct Entry {
    var timer: Timer
    var counters: [UInt32: Counter]
  }

  private let entries = LockedValue<[String: Entry]>([:])

  func record(method: String, code: StatusCode, since started: ContinuousClock.Instant) {
    let elapsed = started.duration(to: .now)
    let (counter, timer) = entries.withLock { entries -> (Counter, Timer) in
      // Fast path without writing back: writing the entry back would copy its counters on every call.
      if let entry = entries[method], let counter = entry.counters[code.rawValue] { return (counter, entry.timer) }
      var entry = entries[method] ?? Entry(
        timer: Timer(label: "guestaccess_rpc_duration_seconds", dimensions: [("method", method)]), counters: [:])
      let counter = entry.counters[code.rawValue] ?? Counter(
        label: "guestaccess_rpc_requests_total", dimensions: [("method", method), ("code", code.name)])
      entry.counters[code.rawValue] = counter
      entries[method] = entry
      return (counter, entry.timer)
    }
    counter.increment()
    timer.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
  }
}

/// The number of calls in flight, published as a gauge.
final class InFlightCounter: Sendable {
  private let count = Atomic<Int>(0)
  private let gauge = Gauge(label: "guestaccess_rpc_in_flight")

  func change(_ delta: Int) {
    let now = count.add(delta, ordering: .relaxed).newValue
    gauge.record(now)
  }
}
