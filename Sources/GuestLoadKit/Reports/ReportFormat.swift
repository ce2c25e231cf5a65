import Foundation

/// What `-O/--format` writes.
public enum ReportFormat: String, Sendable, CaseIterable, Codable {
  /// The text summary (ghz's default).
  case summary
  /// The report as JSON (`compare` reads it).
  case json
  /// One row per call.
  case csv
  /// One self-contained HTML page with charts.
  case html
  /// The summary in the Prometheus text exposition format.
  case prometheus

  /// Renders `report` (and, for CSV, every call of `result`).
  public func render(_ report: LoadReport, result: LoadResult) -> String {
    switch self {
    case .summary: SummaryReport.render(report)
    case .json: JSONReport.render(report)
    case .csv: CSVReport.render(result)
    case .html: HTMLReport.render(report)
    case .prometheus: PrometheusReport.render(report)
    }
  }
}

/// `-O json`.
enum JSONReport {
  static func render(_ report: LoadReport) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(report)) ?? Data("{}".utf8), as: UTF8.self)
  }
}

/// `-O csv`: `start_s,worker,duration_ms,status,error,messages,first_message_ms`, a row per call in start order.
enum CSVReport {
  static func render(_ result: LoadResult) -> String {
    var out = "start_s,worker,duration_ms,status,error,messages,first_message_ms\n"
    out.reserveCapacity(result.records.count * 40)
    for record in result.records {
      out += String(format: "%.6f,%d,%.3f,", Double(record.offset) / 1e9, record.worker, Double(record.latency) / 1e6)
      out += record.code.name
      out += ","
      out += quote(result.error(of: record) ?? "")
      out += ",\(record.messages),"
      if let first = record.firstMessage { out += String(format: "%.3f", Double(first) / 1e6) }
      out += "\n"
    }
    return out
  }

  /// A field quoted as RFC 4180 wants when it holds a comma, quote or line break.
  static func quote(_ field: String) -> String {
    guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
    return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
