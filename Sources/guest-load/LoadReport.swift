import Foundation
import GuestAccessClient
import Histogram

/// The summary of a load run, as text (ghz-like) or JSON.
struct LoadReport {
  let result: WorkerResult
  let elapsed: Duration

  static let percentiles: [Double] = [50, 75, 90, 95, 99, 99.9]

  var count: Int { Int(result.histogram.totalCount) }
  var seconds: Double { Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
  var rate: Double { Double(count) / max(seconds, 1e-9) }

  private func micros(_ nanos: UInt64) -> Double { Double(nanos) / 1000 }
  private func micros(_ nanos: Double) -> Double { nanos / 1000 }

  func text(scenario: String, concurrency: Int, connections: Int) -> String {
    let h = result.histogram
    var lines: [String] = []
    lines.append("Summary (\(scenario), c=\(concurrency), connections=\(connections)):")
    lines.append(String(format: "  Count:        %d", count))
    lines.append(String(format: "  Total:        %.3f s", seconds))
    lines.append(String(format: "  Slowest:      %.1f µs", micros(h.max)))
    lines.append(String(format: "  Fastest:      %.1f µs", micros(h.min)))
    lines.append(String(format: "  Average:      %.1f µs", micros(h.mean)))
    lines.append(String(format: "  Requests/sec: %.0f", rate))
    lines.append("")
    lines.append("Latency distribution:")
    for p in Self.percentiles {
      lines.append(String(format: "  %5.1f %% in %.1f µs", p, micros(h.valueAtPercentile(p))))
    }
    lines.append("")
    lines.append("Response time histogram (µs):")
    for bucket in histogramBuckets() {
      let bar = String(repeating: "∎", count: count == 0 ? 0 : Int((Double(bucket.count) / Double(count)) * 40))
      lines.append(String(format: "  %10.1f [%d]\t|%@", bucket.upper, bucket.count, bar))
    }
    lines.append("")
    lines.append("Status code distribution:")
    for (code, n) in result.codes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
      lines.append("  [\(code.name)]  \(n) responses")
    }
    return lines.joined(separator: "\n")
  }

  /// Ten buckets between the fastest and the slowest call.
  func histogramBuckets() -> [(upper: Double, count: Int)] {
    let h = result.histogram
    guard count > 0 else { return [] }
    let low = Double(h.min), high = Double(max(h.max, h.min + 1))
    let width = (high - low) / 10
    var counts = Array(repeating: 0, count: 10)
    for value in h.recordedValues() {
      let index = min(9, Int((Double(value.value) - low) / width))
      counts[max(0, index)] += Int(value.count)
    }
    return (0..<10).map { (upper: micros(low + width * Double($0 + 1)), count: counts[$0]) }
  }

  func json(scenario: String, concurrency: Int, connections: Int) -> String {
    let h = result.histogram
    var latency: [String: Double] = [:]
    for p in Self.percentiles { latency["p\(p == 99.9 ? "99.9" : String(Int(p)))"] = micros(h.valueAtPercentile(p)) }
    let object: [String: Any] = [
      "scenario": scenario,
      "concurrency": concurrency,
      "connections": connections,
      "count": count,
      "total_seconds": seconds,
      "rps": rate,
      "slowest_us": micros(h.max),
      "fastest_us": micros(h.min),
      "average_us": micros(h.mean),
      "latency_us": latency,
      "histogram": histogramBuckets().map { ["upper_us": $0.upper, "count": $0.count] },
      "status_codes": Dictionary(uniqueKeysWithValues: result.codes.map { ($0.key.name, $0.value) }),
    ]
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
  }
}
