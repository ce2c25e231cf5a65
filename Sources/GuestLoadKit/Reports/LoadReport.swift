import Foundation
import GuestAccessCore

/// The report of one run: what every output format prints, and what
/// `-O json` writes and `guest-load compare` reads back. Latencies are in
/// nanoseconds and histogram marks in seconds, as ghz writes them.
public struct LoadReport: Codable, Sendable, Equatable {
  /// One latency percentile.
  public struct Percentile: Codable, Sendable, Equatable {
    public var percentage: Double
    /// Nanoseconds.
    public var latency: Int
  }

  /// One bar of the latency histogram.
  public struct Bucket: Codable, Sendable, Equatable {
    /// The bucket's upper bound, in seconds.
    public var mark: Double
    public var count: Int
    /// The bucket's share of the calls, 0…1.
    public var frequency: Double
  }

  /// One interval of the run.
  public struct Interval: Codable, Sendable, Equatable {
    /// Seconds from the start of the run to the start of the interval.
    public var start: Double
    /// Calls that started in the interval.
    public var count: Int
    /// Of those, the failed ones.
    public var errors: Int
    /// Calls per second over the interval.
    public var rps: Double
    /// Latency percentiles of the interval's calls, nanoseconds.
    public var p50: Int
    public var p90: Int
    public var p99: Int
  }

  /// Server-streaming figures.
  public struct Streaming: Codable, Sendable, Equatable {
    /// Messages received over all calls.
    public var messages: Int
    /// Messages per call, on average.
    public var messagesPerCall: Double
    /// Time to first message, nanoseconds: average and percentiles.
    public var firstMessageAverage: Int
    public var firstMessageDistribution: [Percentile]
  }

  public var name: String
  /// When the run started (RFC 3339).
  public var date: String
  public var endReason: String
  /// The options of the run, as given (the API key never appears).
  public var options: [String: String]
  public var tags: [String: String]
  /// Calls reported.
  public var count: Int
  /// Wall time of the run, nanoseconds.
  public var total: Int
  /// Nanoseconds.
  public var average: Int
  public var fastest: Int
  public var slowest: Int
  /// Calls per second.
  public var rps: Double
  public var errorDistribution: [String: Int]
  public var statusCodeDistribution: [String: Int]
  public var latencyDistribution: [Percentile]
  public var histogram: [Bucket]
  public var timeSeries: [Interval]
  public var streaming: Streaming?

  /// The percentiles every report lists.
  public static let percentiles: [Double] = [10, 25, 50, 75, 90, 95, 99, 99.9]

  /// Builds the report of `result`.
  public init(result: LoadResult, name: String, date: Date, options: [String: String], tags: [String: String], streaming: Bool) {
    self.name = name
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    self.date = formatter.string(from: date)
    endReason = result.endReason
    self.options = options
    self.tags = tags
    count = result.count
    total = Int(result.elapsed.nanoseconds)
    let h = result.histogram
    let counted = h.totalCount > 0
    average = counted ? Int(h.mean) : 0
    fastest = counted ? Int(h.min) : 0
    slowest = counted ? Int(h.max) : 0
    rps = Double(count) / max(result.elapsed.seconds, 1e-9)
    errorDistribution = result.errors
    statusCodeDistribution = Dictionary(uniqueKeysWithValues: result.codes.map { ($0.key.name, $0.value) })
    latencyDistribution = counted ? Self.percentiles.map { Percentile(percentage: $0, latency: Int(h.valueAtPercentile($0))) } : []
    histogram = Self.buckets(result)
    timeSeries = Self.intervals(result)
    if streaming {
      let f = result.firstMessage
      self.streaming = Streaming(
        messages: result.messages, messagesPerCall: Double(result.messages) / Double(max(1, count)),
        firstMessageAverage: f.totalCount > 0 ? Int(f.mean) : 0,
        firstMessageDistribution: f.totalCount > 0 ? Self.percentiles.map { Percentile(percentage: $0, latency: Int(f.valueAtPercentile($0))) } : [])
    }
  }

  /// Ten equal buckets between the fastest and the slowest counted call (as ghz).
  static func buckets(_ result: LoadResult) -> [Bucket] {
    let h = result.histogram
    guard h.totalCount > 0 else { return [] }
    let low = Double(h.min), high = Double(max(h.max, h.min + 1))
    let width = (high - low) / 10
    var counts = Array(repeating: 0, count: 10)
    for value in h.recordedValues() {
      counts[max(0, min(9, Int((Double(value.value) - low) / width)))] += Int(value.count)
    }
    let total = Double(h.totalCount)
    return (0..<10).map { Bucket(mark: (low + width * Double($0 + 1)) / 1e9, count: counts[$0], frequency: Double(counts[$0]) / total) }
  }

  /// The run's time window (its duration when timed, else its wall time) cut into 20…60 intervals of a round length.
  static func intervals(_ result: LoadResult) -> [Interval] {
    guard let last = result.records.last else { return [] }
    let span = max(result.window?.seconds ?? result.elapsed.seconds, Double(last.offset) / 1e9, 1e-3)
    let width = TimeAxis.niceStep(span / 40)
    let n = max(1, Int((span / width).rounded(.up)))
    var latencies = Array(repeating: [UInt64](), count: n)
    var errors = Array(repeating: 0, count: n)
    for record in result.records {
      let index = min(n - 1, Int(Double(record.offset) / 1e9 / width))
      latencies[index].append(record.latency)
      if record.code != .ok { errors[index] += 1 }
    }
    return (0..<n).map { i in
      let sorted = latencies[i].sorted()
      func at(_ p: Double) -> Int { sorted.isEmpty ? 0 : Int(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) }
      let length = i == n - 1 ? max(1e-3, span - width * Double(i)) : width
      return Interval(
        start: width * Double(i), count: sorted.count, errors: errors[i], rps: Double(sorted.count) / length, p50: at(0.5), p90: at(0.9), p99: at(0.99))
    }
  }
}

/// Round numbers for axes and intervals.
enum TimeAxis {
  /// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value`.
  static func niceStep(_ value: Double) -> Double {
    guard value > 0, value.isFinite else { return 1 }
    let exponent = (log10(value)).rounded(.down)
    let base = pow(10, exponent)
    for factor in [1.0, 2, 2.5, 5, 10] where factor * base >= value { return factor * base }
    return 10 * base
  }
}
