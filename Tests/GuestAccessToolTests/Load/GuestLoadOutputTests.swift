import Foundation
import GuestLoadKit
import Testing

/// Every output format parses with a real parser: JSON with Python's json,
/// CSV with Python's csv, Prometheus text with prometheus_client, the HTML
/// in headless Chromium; `compare` reads two JSON reports.
@Suite("guest-load output")
struct GuestLoadOutputTests {
  @Test func everyFormatParses() async throws {
    try await withToolServer { server in
      let dir = server.workDir
      let common = [
        "--call", "guestaccess.v1.Health/Check", "-d", #"{"service": "{{randomString 4}}"}"#, "-n", "300", "-c", "4", "--count-errors",
        "--name", "health \"check\" <run>", "--tags", #"{"env": "test", "build id": "42"}"#,
      ]
      var results: [ReportFormat: ToolResult] = [:]
      for format in ReportFormat.allCases {
        results[format] = try await GuestLoad.run(server, common + ["-O", format.rawValue, "-o", "\(dir)/report.\(format.rawValue)"])
        #expect(results[format]?.status == 0 && results[format]?.stdout.isEmpty == true, "\(results[format]!)")
      }
      // Unknown services answer NOT_FOUND: the reports carry a status and error distribution.
      let check = try await Tools.run(GuestLoad.python, ["-c", Self.parsers, dir])
      #expect(check.status == 0, "\(check)")
      #expect(check.stdout.contains("json ok 300") && check.stdout.contains("csv ok 300") && check.stdout.contains("prometheus ok 300"), "\(check)")

      let summary = try String(contentsOfFile: "\(dir)/report.summary", encoding: .utf8)
      #expect(summary.contains("Count:\t300") && summary.contains("[NOT_FOUND]\t300 responses") && summary.contains("Latency distribution:"))

      let html = try String(contentsOfFile: "\(dir)/report.html", encoding: .utf8)
      #expect(html.components(separatedBy: "<svg ").count - 1 == 3, "histogram, latency over time, throughput over time")
      #expect(html.contains("<polyline") && html.contains("class=\"bar\""))
      #expect(html.contains("NOT_FOUND") && html.contains("health &quot;check&quot; &lt;run&gt;") && html.contains("build id"))
      // Self-contained: nothing to fetch (the only URL is the SVG namespace).
      #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src=") && !html.contains("url(") && !html.contains("https://"))
      let screenshot = "\(dir)/report.png"
      let chromium = try await Tools.run(
        "/usr/bin/chromium",
        ["--headless", "--no-sandbox", "--disable-gpu", "--screenshot=\(screenshot)", "--window-size=1200,2000", "file://\(dir)/report.html"],
        timeout: .seconds(60))
      #expect(chromium.status == 0, "\(chromium)")
      let png = try #require(FileManager.default.contents(atPath: screenshot), "no screenshot: \(chromium)")
      #expect(png.count > 10_000 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]))

      // compare: two runs side by side with B/A.
      let compare = try await Tools.run("guest-load", ["compare", "\(dir)/report.json", "\(dir)/report.json"])
      #expect(compare.status == 0, "\(compare)")
      let rows = compare.stdout.split(separator: "\n")
      #expect(rows.first?.hasSuffix("B/A") == true && rows.contains { $0.hasPrefix("Requests/sec") && $0.hasSuffix("1.000") }, "\(compare)")
      let bad = try await Tools.run("guest-load", ["compare", "\(dir)/report.json", "\(dir)/report.csv"])
      #expect(bad.status == 64 && bad.stderr.contains("not a guest-load JSON report"), "\(bad)")
    }
  }

  /// Parses the reports in the directory given as argv[1] and prints one line per format.
  static let parsers = #"""
    import csv, json, sys
    from prometheus_client.parser import text_string_to_metric_families
    d = sys.argv[1]
    r = json.load(open(d + "/report.json"))
    assert r["count"] == 300 and r["statusCodeDistribution"] == {"NOT_FOUND": 300}, r["statusCodeDistribution"]
    assert r["tags"] == {"env": "test", "build id": "42"} and r["name"] == 'health "check" <run>'
    assert [p["percentage"] for p in r["latencyDistribution"]][:3] == [10, 25, 50]
    assert sum(b["count"] for b in r["histogram"]) == 300 and sum(i["count"] for i in r["timeSeries"]) == 300
    print("json ok", r["count"])
    rows = list(csv.DictReader(open(d + "/report.csv", newline="")))
    assert set(rows[0].keys()) == {"start_s", "worker", "duration_ms", "status", "error", "messages", "first_message_ms"}, rows[0].keys()
    assert {row["worker"] for row in rows} == {"0", "1", "2", "3"}
    assert all(row["status"] == "NOT_FOUND" and row["error"].startswith("NOT_FOUND: ") and float(row["duration_ms"]) > 0 for row in rows)
    assert [float(row["start_s"]) for row in rows] == sorted(float(row["start_s"]) for row in rows)
    print("csv ok", len(rows))
    families = {f.name: f for f in text_string_to_metric_families(open(d + "/report.prometheus").read())}
    calls = families["guest_load_run_calls"].samples[0]
    assert calls.labels["name"] == 'health "check" <run>' and calls.labels["env"] == "test" and calls.labels["build_id"] == "42", calls.labels
    assert families["guest_load_run_histogram_seconds"].type == "histogram"
    buckets = [s for s in families["guest_load_run_histogram_seconds"].samples if s.name.endswith("_bucket")]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 300
    assert families["guest_load_run_latency_seconds"].type == "summary"
    codes = {s.labels["code"]: s.value for s in families["guest_load_run_status_codes"].samples}
    assert codes == {"NOT_FOUND": 300}, codes
    print("prometheus ok", int(calls.value))
    """#
}
