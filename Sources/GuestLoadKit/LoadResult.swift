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
  /// The failed call's error text, as an index into its result's
  /// `errorTexts` (-1: none); `LoadResult.error(of:)` reads it. An index keeps
  /// the record free of references: millions of them are copied as plain bytes.
  public var errorIndex: Int32 = -1
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
  /// The distinct error texts, in the order they first appeared (`CallRecord.errorIndex`).
  public private(set) var errorTexts: [String] = []
  /// Every reported call, in start order (filled by `finish()`).
  public private(set) var records: [CallRecord] = []
  /// The calls recorded so far, in chunks that are never copied to grow:
  /// a run keeps millions of records, and growing one array would copy them
  /// all over again at every doubling (and fault in the new pages) while
  /// the run is being measured. `finish()` joins them.
  private var chunks: [[CallRecord]] = []
  /// The capacity of the first chunk and the largest one.
  private static let firstChunk = 1024
  private static let largestChunk = 1 << 16
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
  public var count: Int { records.count + chunks.reduce(0) { $0 + $1.count } }

  /// The error text of `record` (nil for a call that did not fail).
  public func error(of record: CallRecord) -> String? {
    record.errorIndex >= 0 ? errorTexts[Int(record.errorIndex)] : nil
  }

  mutating func record(_ record: CallRecord, error: String?, countErrors: Bool) {
    var record = record
    if record.code == .ok || countErrors { _ = histogram.record(min(record.latency, 600_000_000_000)) }
    if let first = record.firstMessage { _ = firstMessage.record(min(first, 600_000_000_000)) }
    codeCounts[Int(min(record.code.rawValue, 16))] += 1
    if let error {
      errors[error, default: 0] += 1
      record.errorIndex = errorIndex(of: error)
    }
    messages += record.messages
    if chunks.isEmpty || chunks[chunks.count - 1].count == chunks[chunks.count - 1].capacity {
      var chunk: [CallRecord] = []
      chunk.reserveCapacity(chunks.last.map { min(Self.largestChunk, $0.capacity * 2) } ?? Self.firstChunk)
      chunks.append(chunk)
    }
    chunks[chunks.count - 1].append(record)
  }

  /// The index of `text` in `errorTexts`, added when new.
  private mutating func errorIndex(of text: String) -> Int32 {
    if let index = errorTexts.firstIndex(of: text) { return Int32(index) }
    errorTexts.append(text)
    return Int32(errorTexts.count - 1)
  }

  mutating func merge(_ other: LoadResult) {
    histogram.add(other.histogram)
    firstMessage.add(other.firstMessage)
    for number in codeCounts.indices { codeCounts[number] += other.codeCounts[number] }
    for (error, n) in other.errors { errors[error, default: 0] += n }
    messages += other.messages
    precondition(other.records.isEmpty && records.isEmpty, "results are merged before they are finished")
    guard !other.errorTexts.isEmpty else { return chunks.append(contentsOf: other.chunks) }
    // The other result's error indexes point into its own texts.
    let mapped = other.errorTexts.map { errorIndex(of: $0) }
    for var chunk in other.chunks {
      for index in chunk.indices where chunk[index].errorIndex >= 0 {
        chunk[index].errorIndex = mapped[Int(chunk[index].errorIndex)]
      }
      chunks.append(chunk)
    }
  }

  /// Joins the recorded chunks into `records`, sorted by start time.
  mutating func finish() {
    records.reserveCapacity(count)
    for chunk in chunks { records.append(contentsOf: chunk) }
    chunks = []
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
