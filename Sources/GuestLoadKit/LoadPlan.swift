/// What happens to calls still in flight when the run's time is up (ghz's `--duration-stop`).
public enum DurationStop: String, Sendable, Hashable, Codable, CaseIterable {
  /// Close the connections: calls in flight fail (UNAVAILABLE) and are reported.
  case close
  /// Let calls in flight finish (within their timeout) and report them.
  case wait
  /// Close the connections and leave calls in flight out of the report.
  case ignore
}

/// How much load to generate and how to shape it.
public struct LoadPlan: Sendable, Hashable {
  /// Concurrent workers over time (`-c`, or `--concurrency-schedule`).
  public var concurrency: LoadSchedule
  /// Calls to make (nil: until the time is up).
  public var total: Int?
  /// Time after which no new call starts (`-z`, or `-x` with `-n`).
  public var duration: Duration?
  /// Calls per second over time (nil: as fast as the workers go).
  public var rate: LoadSchedule?
  /// Calls made before the run and not reported.
  public var warmup: Int
  /// Responses left out of the report at the start of the run (`--skipFirst`).
  public var skipFirst: Int
  /// What happens to calls in flight when the time is up.
  public var durationStop: DurationStop
  /// Whether failed calls count in the latency figures (`--count-errors`).
  public var countErrors: Bool

  public init(
    concurrency: LoadSchedule, total: Int?, duration: Duration?, rate: LoadSchedule?, warmup: Int = 0, skipFirst: Int = 0,
    durationStop: DurationStop = .close, countErrors: Bool = false
  ) {
    self.concurrency = concurrency
    self.total = total
    self.duration = duration
    self.rate = rate
    self.warmup = warmup
    self.skipFirst = skipFirst
    self.durationStop = durationStop
    self.countErrors = countErrors
  }

  /// Workers started: the most the concurrency schedule reaches.
  public var workerCount: Int { max(1, Int((concurrency.peak ?? 1).rounded(.down))) }
}

/// One call of a run: `worker` and `requestNumber` are what templates see.
public typealias LoadCall = @Sendable (_ worker: Int, _ requestNumber: Int) async throws -> CallOutcome
