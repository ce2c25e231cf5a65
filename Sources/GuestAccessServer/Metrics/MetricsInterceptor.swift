import CoreMetrics
import GuestAccessCore
import GuestAccessLocks
import GuestAccessTransport
import Synchronization

/// Records, for every call: `guestaccess_rpc_requests_total{method,code}`
/// and `guestaccess_rpc_duration_seconds{method}`; and the number of calls in
/// flight, published as the gauge `guestaccess_rpc_in_flight` by
/// `publishInFlight()` (the server calls it every second: a call costs one
/// atomic add, not a gauge update). Uses the swift-metrics API; the backend
/// is chosen by the executable. Metric handles are made once per method and
/// code and reused (making one costs a registry look-up); those of the
/// methods given to `init` are made up front and found without a lock.
/// A class, as the other per-call interceptors: the server copies an
/// interceptor out of its list for every call, and a class copies as one
/// reference.
public final class MetricsInterceptor: SynchronousServerInterceptor {
  private let inFlight = InFlightCounter()
  private let handles: MetricHandles

  /// Creates the interceptor; `methods` are the server's (their series
  /// start at zero rather than at their first call).
  public init(methods: [MethodDescriptor] = []) {
    handles = MetricHandles(methods: methods)
  }

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

  /// Calls this interceptor has started and not ended.
  public var callsInFlight: Int { inFlight.current }

  /// Sets the in-flight gauge to the number of calls in flight now.
  public func publishInFlight() {
    inFlight.publish()
  }

  /// The first half of both forms: the call is in flight from now.
  @inline(__always)
  private func callStarted() -> UInt64 {
    inFlight.change(+1)
    return EventLoop.now()
  }

  /// The second half of both forms: the call's outcome (OK unless it threw
  /// `error`) and duration are recorded, and it is no longer in flight.
  @inline(__always)
  private func callEnded(_ context: ServerContext, since started: UInt64, throwing error: (any Error)?) {
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

/// One method's timer and counters.
final class MethodMetrics: Sendable {
  let timer: Timer
  /// The OK counter, the one nearly every call moves.
  let ok: Counter
  private let method: String
  private let others = LockedValue<[UInt32: Counter]>([:])

  init(method: String) {
    self.method = method
    timer = Timer(label: "guestaccess_rpc_duration_seconds", dimensions: [("method", method)])
    ok = Counter(label: "guestaccess_rpc_requests_total", dimensions: [("method", method), ("code", StatusCode.ok.name)])
  }

  /// The counter of `code`, made on first use.
  func counter(_ code: StatusCode) -> Counter {
    if code == .ok { return ok }
    return others.withLock { counters in
      if let counter = counters[code.rawValue] { return counter }
      let counter = Counter(label: "guestaccess_rpc_requests_total", dimensions: [("method", method), ("code", code.name)])
      counters[code.rawValue] = counter
      return counter
    }
  }
}

/// Each method's `MethodMetrics`: the known methods' in a table that never
/// changes (read without a lock), any other's made on first use.
final class MetricHandles: Sendable {
  private let known: [String: MethodMetrics]
  private let others = LockedValue<[String: MethodMetrics]>([:])

  init(methods: [MethodDescriptor]) {
    known = Dictionary(methods.map { ($0.path, MethodMetrics(method: $0.path)) }) { first, _ in first }
  }

  /// Records a call of `method` that ended with `code`, started at `started`
  /// on the loops' monotonic clock (`EventLoop.now()`, nanoseconds).
  func record(method: String, code: StatusCode, since started: UInt64) {
    let elapsed = EventLoop.now() &- started
    let metrics = known[method] ?? others.withLock { others in
      if let metrics = others[method] { return metrics }
      let metrics = MethodMetrics(method: method)
      others[method] = metrics
      return metrics
    }
    metrics.counter(code).increment()
    metrics.timer.recordNanoseconds(Int64(truncatingIfNeeded: elapsed))
  }
}

/// The number of calls in flight, published as a gauge when asked.
final class InFlightCounter: Sendable {
  private let count = Atomic<Int>(0)
  private let gauge = Gauge(label: "guestaccess_rpc_in_flight")

  @inline(__always)
  func change(_ delta: Int) {
    count.add(delta, ordering: .relaxed)
  }

  var current: Int { count.load(ordering: .relaxed) }

  func publish() {
    gauge.record(current)
  }
}
