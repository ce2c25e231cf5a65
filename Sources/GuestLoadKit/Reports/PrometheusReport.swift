import Foundation

/// `-O prometheus`: the summary in the Prometheus text exposition format
/// (gauges, a latency summary with quantiles and a latency histogram), every
/// series labelled with the run's name and tags, for a Pushgateway or a file
/// collector.
enum PrometheusReport {
  static func render(_ report: LoadReport) -> String {
    var labels: [(String, String)] = []
    if !report.name.isEmpty { labels.append(("name", report.name)) }
    if let call = report.options["call"] ?? report.options["scenario"] { labels.append(("call", call)) }
    for (key, value) in report.tags.sorted(by: { $0.key < $1.key }) {
      let name = labelName(key)
      if !labels.contains(where: { $0.0 == name }) { labels.append((name, value)) }
    }
    var out: [String] = []
    func family(_ name: String, _ type: String, _ help: String) {
      out.append("# HELP guest_load_run_\(name) \(help)")
      out.append("# TYPE guest_load_run_\(name) \(type)")
    }
    func sample(_ name: String, _ extra: [(String, String)] = [], _ value: Double) {
      let all = labels + extra
      let text = all.isEmpty ? "" : "{" + all.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
      out.append("guest_load_run_\(name)\(text) \(number(value))")
    }
    let errors = report.errorDistribution.values.reduce(0, +)
    family("calls", "gauge", "Calls reported.")
    sample("calls", [], Double(report.count))
    family("duration_seconds", "gauge", "Wall time of the run.")
    sample("duration_seconds", [], Double(report.total) / 1e9)
    family("average_seconds", "gauge", "Average latency.")
    sample("average_seconds", [], Double(report.average) / 1e9)
    family("fastest_seconds", "gauge", "Fastest call.")
    sample("fastest_seconds", [], Double(report.fastest) / 1e9)
    family("slowest_seconds", "gauge", "Slowest call.")
    sample("slowest_seconds", [], Double(report.slowest) / 1e9)
    family("rps", "gauge", "Calls per second.")
    sample("rps", [], report.rps)
    family("errors", "gauge", "Failed calls.")
    sample("errors", [], Double(errors))
    family("status_codes", "gauge", "Calls per status code.")
    for (code, n) in report.statusCodeDistribution.sorted(by: { $0.key < $1.key }) { sample("status_codes", [("code", code)], Double(n)) }
    let counted = report.histogram.map(\.count).reduce(0, +)
    let sum = Double(report.average) / 1e9 * Double(counted)
    family("latency_seconds", "summary", "Latency quantiles of the counted calls.")
    for p in report.latencyDistribution {
      sample("latency_seconds", [("quantile", number(p.percentage / 100))], Double(p.latency) / 1e9)
    }
    sample("latency_seconds_sum", [], sum)
    sample("latency_seconds_count", [], Double(counted))
    family("histogram_seconds", "histogram", "Latency histogram of the counted calls.")
    var cumulative = 0
    for bucket in report.histogram {
      cumulative += bucket.count
      sample("histogram_seconds_bucket", [("le", number(bucket.mark))], Double(cumulative))
    }
    sample("histogram_seconds_bucket", [("le", "+Inf")], Double(counted))
    sample("histogram_seconds_sum", [], sum)
    sample("histogram_seconds_count", [], Double(counted))
    if let streaming = report.streaming {
      family("stream_messages", "gauge", "Messages received by server-streaming calls.")
      sample("stream_messages", [], Double(streaming.messages))
      family("first_message_average_seconds", "gauge", "Average time to the first message of a server-streaming call.")
      sample("first_message_average_seconds", [], Double(streaming.firstMessageAverage) / 1e9)
    }
    return out.joined(separator: "\n") + "\n"
  }

  /// A label name Prometheus accepts: `[a-zA-Z_][a-zA-Z0-9_]*`.
  static func labelName(_ key: String) -> String {
    var name = String(key.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" })
    if name.isEmpty || name.first!.isNumber { name = "_" + name }
    if name.hasPrefix("__") { name = "tag" + name }
    return name
  }

  static func escape(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
  }

  static func number(_ value: Double) -> String {
    if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) }
    return String(format: "%.9g", value)
  }
}
