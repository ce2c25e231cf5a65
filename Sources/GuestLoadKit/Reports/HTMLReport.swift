import Foundation

/// `-O html`: one self-contained page (inline CSS and SVG, nothing fetched)
/// with the summary, the latency histogram, latency percentiles and
/// throughput over time, the status-code and error distributions, and the
/// options and tags of the run.
enum HTMLReport {
  static func render(_ report: LoadReport) -> String {
    let title = report.name.isEmpty ? (report.options["call"] ?? report.options["scenario"] ?? "load run") : report.name
    let errors = report.errorDistribution.values.reduce(0, +)
    var summary: [(String, String)] = [
      ("Count", "\(report.count)"), ("Total", Units.duration(report.total)), ("Requests/sec", String(format: "%.2f", report.rps)),
      ("Average", Units.duration(report.average)), ("Fastest", Units.duration(report.fastest)), ("Slowest", Units.duration(report.slowest)),
      ("Errors", "\(errors)"), ("End reason", report.endReason), ("Date", report.date),
    ]
    if let streaming = report.streaming {
      summary.append(("Stream messages", "\(streaming.messages)"))
      summary.append(("Messages per call", String(format: "%.2f", streaming.messagesPerCall)))
      summary.append(("Time to first message", Units.duration(streaming.firstMessageAverage) + " average"))
    }
    var html = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <title>guest-load: \(escape(title))</title>
      <style>
      body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 960px; color: #1f2328; }
      h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
      .sub { color: #59636e; margin-top: 0; }
      .cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px; }
      .card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; }
      .card .k { color: #59636e; font-size: 12px; text-transform: uppercase; } .card .v { font-size: 20px; font-weight: 600; }
      table { border-collapse: collapse; width: 100%; font-size: 14px; }
      th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; } .n { text-align: right; font-variant-numeric: tabular-nums; }
      code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
      svg text { font-family: inherit; } svg .tick { font-size: 11px; fill: #59636e; } svg .label { font-size: 12px; fill: #1f2328; }
      svg .legend { font-size: 12px; fill: #1f2328; } svg .grid { stroke: #eaeef2; } svg .axis { stroke: #8c959f; }
      .ok { color: #1a7f37; } .bad { color: #cf222e; }
      </style>
      </head>
      <body>
      <h1>\(escape(title))</h1>
      <p class="sub">guest-load report · \(escape(report.date))</p>

      """
    html += "<h2>Summary</h2>\n<div class=\"cards\">\n"
    for (key, value) in summary {
      html += "<div class=\"card\"><div class=\"k\">\(escape(key))</div><div class=\"v\">\(escape(value))</div></div>\n"
    }
    html += "</div>\n"
    html += "<h2>Latency histogram</h2>\n"
    html += SVGChart.bars(report.histogram.map { (label: Units.duration(Int($0.mark * 1e9)), value: Double($0.count)) }, color: "#0969da", yLabel: "calls")
    html += "<h2>Latency distribution</h2>\n<table><tr><th>Percentile</th><th class=\"n\">Latency</th></tr>\n"
    for p in report.latencyDistribution {
      html += "<tr><td>\(Units.percent(p.percentage)) %</td><td class=\"n\">\(Units.duration(p.latency))</td></tr>\n"
    }
    html += "</table>\n"
    let series = report.timeSeries
    let measured = series.filter { $0.count > 0 }  // no latency in an interval without calls
    html += "<h2>Latency over time</h2>\n"
    html += SVGChart.lines(
      [
        .init(name: "p50", color: "#1a7f37", points: measured.map { ($0.start, Double($0.p50) / 1e6) }),
        .init(name: "p90", color: "#bf8700", points: measured.map { ($0.start, Double($0.p90) / 1e6) }),
        .init(name: "p99", color: "#cf222e", points: measured.map { ($0.start, Double($0.p99) / 1e6) }),
      ], xLabel: "time since start", yLabel: "latency (ms)", yFormat: { SVGChart.trim($0) })
    html += "<h2>Throughput over time</h2>\n"
    html += SVGChart.lines(
      [
        .init(name: "calls/s", color: "#0969da", points: series.map { ($0.start, $0.rps) }),
        .init(name: "errors/s", color: "#cf222e", points: series.map { interval in
          let length = interval.count > 0 ? Double(interval.count) / max(interval.rps, 1e-9) : 1
          return (interval.start, Double(interval.errors) / length)
        }),
      ], xLabel: "time since start", yLabel: "calls per second", yFormat: { SVGChart.trim($0) })
    html += "<h2>Status codes</h2>\n<table><tr><th>Code</th><th class=\"n\">Calls</th><th class=\"n\">Share</th></tr>\n"
    for (code, n) in report.statusCodeDistribution.sorted(by: { $0.value > $1.value }) {
      let share = String(format: "%.2f %%", Double(n) * 100 / Double(max(1, report.count)))
      html += "<tr><td class=\"\(code == "OK" ? "ok" : "bad")\">\(escape(code))</td><td class=\"n\">\(n)</td><td class=\"n\">\(share)</td></tr>\n"
    }
    html += "</table>\n<h2>Errors</h2>\n"
    if report.errorDistribution.isEmpty {
      html += "<p>No errors.</p>\n"
    } else {
      html += "<table><tr><th>Error</th><th class=\"n\">Calls</th></tr>\n"
      for (error, n) in report.errorDistribution.sorted(by: { $0.value > $1.value }) {
        html += "<tr><td><code>\(escape(error))</code></td><td class=\"n\">\(n)</td></tr>\n"
      }
      html += "</table>\n"
    }
    html += "<h2>Options</h2>\n<table>\n"
    for (key, value) in report.options.sorted(by: { $0.key < $1.key }) {
      html += "<tr><th>\(escape(key))</th><td><code>\(escape(value))</code></td></tr>\n"
    }
    html += "</table>\n"
    if !report.tags.isEmpty {
      html += "<h2>Tags</h2>\n<table>\n"
      for (key, value) in report.tags.sorted(by: { $0.key < $1.key }) {
        html += "<tr><th>\(escape(key))</th><td>\(escape(value))</td></tr>\n"
      }
      html += "</table>\n"
    }
    html += "</body>\n</html>\n"
    return html
  }

  /// Text safe inside HTML elements and attribute values.
  static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for character in text {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(character)
      }
    }
    return out
  }
}
