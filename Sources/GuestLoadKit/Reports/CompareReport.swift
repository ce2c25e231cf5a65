import Foundation
import GuestAccessJSON

/// `guest-load compare A.json B.json`: two runs side by side, with B/A.
public enum CompareReport {
  /// Reads a report written by `-O json`.
  /// - Throws: `LoadSetupError` when the file cannot be read or is not a report.
  public static func load(_ path: String) throws -> LoadReport {
    guard let data = FileManager.default.contents(atPath: path) else { throw LoadSetupError.unreadableFile(option: "report", path: path) }
    do {
      return try JSONDecoder().decode(LoadReport.self, from: data)
    } catch {
      throw LoadSetupError.invalidJSON(what: path, detail: "not a guest-load JSON report (\(JSONValue.describe(error)))")
    }
  }

  /// The table: one row per figure, columns A, B and B/A.
  public static func render(_ a: LoadReport, _ b: LoadReport, nameA: String, nameB: String) -> String {
    func percentile(_ report: LoadReport, _ p: Double) -> Double? {
      report.latencyDistribution.first { $0.percentage == p }.map { Double($0.latency) }
    }
    func errors(_ report: LoadReport) -> Double { Double(report.errorDistribution.values.reduce(0, +)) }
    let rows: [(String, Double?, Double?, (Double) -> String)] = [
      ("Count", Double(a.count), Double(b.count), { String(Int($0)) }),
      ("Requests/sec", a.rps, b.rps, { String(format: "%.2f", $0) }),
      ("Total", Double(a.total), Double(b.total), { Units.duration(Int($0)) }),
      ("Average", Double(a.average), Double(b.average), { Units.duration(Int($0)) }),
      ("Fastest", Double(a.fastest), Double(b.fastest), { Units.duration(Int($0)) }),
      ("Slowest", Double(a.slowest), Double(b.slowest), { Units.duration(Int($0)) }),
      ("p50", percentile(a, 50), percentile(b, 50), { Units.duration(Int($0)) }),
      ("p90", percentile(a, 90), percentile(b, 90), { Units.duration(Int($0)) }),
      ("p99", percentile(a, 99), percentile(b, 99), { Units.duration(Int($0)) }),
      ("p99.9", percentile(a, 99.9), percentile(b, 99.9), { Units.duration(Int($0)) }),
      ("Errors", errors(a), errors(b), { String(Int($0)) }),
    ]
    var table: [[String]] = [["", nameA, nameB, "B/A"]]
    for (label, x, y, format) in rows {
      let ratio: String
      if let x, let y, x > 0 { ratio = String(format: "%.3f", y / x) } else { ratio = "-" }
      table.append([label, x.map(format) ?? "-", y.map(format) ?? "-", ratio])
    }
    let widths = (0..<4).map { column in table.map { $0[column].count }.max() ?? 0 }
    return table.map { row in
      row.enumerated().map { column, cell in
        let pad = String(repeating: " ", count: widths[column] - cell.count)
        return column == 0 ? cell + pad : pad + cell
      }.joined(separator: "   ")
    }.joined(separator: "\n")
  }
}
