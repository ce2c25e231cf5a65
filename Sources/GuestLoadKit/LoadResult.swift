import GuestAccessCore
import Histogram

/// One reported call.
public struct CallRecord: Sendable, Hashable {
  /// The worker that made the call, from 0.
  public var worker: Int
  /// Nanoseconds from the start of the run to the start of the call.
  public var offset: UInt64
  /// Nanoseconds the call took.
  public var latency: UInt64
  /// Its status.
  public var code: StatusCode
  /// The error message of a failed call.
  public var error: String?
  /// Messages received (server streaming; 1 for unary).
  public var messages: Int
  /// Nanoseconds to the first message of a server-streaming call.
  public var firstMessage: UInt64?
}

/// What a run measured: every reported call, merged histograms, counts.
public struct LoadResult: Sendable {
  /// Latencies of the calls that count (OK ones, or all with `--count-errors`), in nanoseconds.
  public var histogram = LoadResult.makeHistogram()
  /// Time to first message of server-streaming calls, in nanoseconds.
  public var firstMessage = LoadResult.makeHistogram()
  /// Calls per status code.
  public var codes: [StatusCode: Int] {
    var codes: [StatusCode: Int] = [:]
    for (number, count) in codeCounts.enumerated() where count > 0 { codes[StatusCode(rawValue: UInt32(number))] = count }
    return codes
  }
  /// Calls per status code number (0...16): counted per call without hashing.
  private var codeCounts = Array(repeating: 0, count: 17)
  /// Failed calls per error text (`CODE: message`).
  public var errors: [String: Int] = [:]
  /// Every reported call (unordered until `finish()`).
  public var records: [CallRecord] = []
  /// Response messages received in total.
  public var messages = 0
  /// Wall time of the run.
  public var elapsed: Duration = .zero
  /// The time calls could start in: the run's duration for a timed run, else nil (until the last call).
  public var window: Duration?
  /// Why the run ended: `normal` (all calls made) or `timeout` (time up).
  public var endReason = "normal"

  static func makeHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
  }

  /// Calls reported.
  public var count: Int { records.count }

  mutating func record(_ record: CallRecord, countErrors: Bool) {
    if record.code == .ok || countErrors { _ = histogram.record(min(record.latency, 600_000_000_000)) }
    if let first = record.firstMessage { _ = firstMessage.record(min(first, 600_000_000_000)) }
    codeCounts[Int(min(record.code.rawValue, 16))] += 1
    if let error = record.error { errors[error, default: 0] += 1 }
    messages += record.messages
    records.append(record)
  }

  mutating func merge(_ other: LoadResult) {
    histogram.add(other.histogram)
    firstMessage.add(other.firstMessage)
    for number in codeCounts.indices { codeCounts[number] += other.codeCounts[number] }
    for (error, n) in other.errors { errors[error, default: 0] += n }
    messages += other.messages
    records.append(contentsOf: other.records)
  }

  /// Sorts the records by start time.
  mutating func finish() {
    records.sort { $0.offset < $1.offset }
  }
}

extension Duration {
  /// Whole nanoseconds (0 for negative durations).
  public var nanoseconds: UInt64 {
    let (seconds, attoseconds) = components
    guard seconds >= 0, attoseconds >= 0 else { return 0 }
    return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
  }

  /// Seconds as a floating-point number.
  public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
