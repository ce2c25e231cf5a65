import Foundation

/// `-O summary`: the text summary, laid out like ghz's.
enum SummaryReport {
  static func render(_ report: LoadReport) -> String {
    var lines: [String] = []
    lines.append("Summary:")
    if !report.name.isEmpty { lines.append("  Name:\t\(report.name)") }
    if let call = report.options["call"] { lines.append("  Call:\t\(call)") }
    lines.append("  Count:\t\(report.count)")
    lines.append("  Total:\t\(Units.duration(report.total))")
    lines.append("  Slowest:\t\(Units.duration(report.slowest))")
    lines.append("  Fastest:\t\(Units.duration(report.fastest))")
    lines.append("  Average:\t\(Units.duration(report.average))")
    lines.append(String(format: "  Requests/sec:\t%.2f", report.rps))
    if let streaming = report.streaming {
      lines.append("")
      lines.append("Streaming:")
      lines.append("  Messages:\t\(streaming.messages)")
      lines.append(String(format: "  Per call:\t%.2f", streaming.messagesPerCall))
      lines.append("  First message:\t\(Units.duration(streaming.firstMessageAverage)) average")
      for p in streaming.firstMessageDistribution where [50, 90, 99].contains(p.percentage) {
        lines.append("    \(Units.percent(p.percentage)) % in \(Units.duration(p.latency))")
      }
    }
    lines.append("")
    lines.append("Response time histogram:")
    let most = report.histogram.map(\.count).max() ?? 0
    for bucket in report.histogram {
      let bar = String(repeating: "∎", count: most == 0 ? 0 : Int((Double(bucket.count) / Double(most)) * 40))
      lines.append("  \(Units.duration(Int(bucket.mark * 1e9))) [\(bucket.count)]\t|\(bar)")
    }
    lines.append("")
    lines.append("Latency distribution:")
    for p in report.latencyDistribution {
      lines.append("  \(Units.percent(p.percentage)) % in \(Units.duration(p.latency))")
    }
    lines.append("")
    lines.append("Status code distribution:")
    for (code, n) in report.statusCodeDistribution.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
      lines.append("  [\(code)]\t\(n) responses")
    }
    if !report.errorDistribution.isEmpty {
      lines.append("")
      lines.append("Error distribution:")
      for (error, n) in report.errorDistribution.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
        lines.append("  [\(n)]\t\(error)")
      }
    }
    return lines.joined(separator: "\n")
  }
}

/// Human-readable numbers.
enum Units {
  /// Nanoseconds as `812.4 µs`, `3.21 ms` or `1.500 s`.
  static func duration(_ nanos: Int) -> String {
    let value = Double(nanos)
    if value >= 1e9 { return String(format: "%.3f s", value / 1e9) }
    if value >= 1e6 { return String(format: "%.2f ms", value / 1e6) }
    return String(format: "%.1f µs", value / 1e3)
  }

  /// `50`, `99.9`.
  static func percent(_ value: Double) -> String {
    value.rounded() == value ? String(Int(value)) : String(value)
  }
}
