import Foundation
import GuestAccessClient
import GuestLoadKit
import Testing

/// Load shapes: the rate and concurrency schedules produce the rates docs/LOAD.md documents.
@Suite("guest-load schedules")
struct GuestLoadScheduleTests {
  @Test func scheduleValues() throws {
    let step = LoadSchedule(kind: .step, start: 100, step: 50, end: 200, stepDuration: 1, maxDuration: nil)
    #expect([0, 0.99, 1, 2.5, 3, 10].map(step.value(at:)) == [100, 100, 150, 200, 200, 200])
    let line = LoadSchedule(kind: .line, start: 100, step: -20, end: 50, stepDuration: 0, maxDuration: nil)
    #expect([0, 1, 2.5, 5].map(line.value(at:)) == [100, 80, 50, 50])
    let capped = LoadSchedule(kind: .step, start: 1, step: 1, end: nil, stepDuration: 1, maxDuration: 2.5)
    #expect(capped.value(at: 10) == 3 && capped.peak == 3)
    #expect(capped.firstTime(above: 1, after: 0) == 1 && capped.firstTime(above: 2, after: 0) == 2 && capped.firstTime(above: 3, after: 0) == nil)
    #expect(throws: LoadSetupError.self) { try LoadSchedule(kind: .step, start: 1, step: 1, end: nil, stepDuration: 0, maxDuration: nil).validate("--load") }
    #expect(throws: LoadSetupError.self) { try LoadSchedule(kind: .line, start: 10, step: 1, end: 5, stepDuration: 0, maxDuration: nil).validate("--load") }
  }

  @Test func ratesFollowTheSchedules() async throws {
    try await withToolServer { server in
      // Three shapes one after the other over ~2 s each (three load processes at once on two busy cores started
      // their schedules up to half a second late in CI): low rates, and enough workers that a slow reply does not
      // hold the rate back.
      let constant = try await GuestLoad.run(server, "--call", "guestaccess.v1.Health/Check", "--rps", "150", "-z", "2s", "-c", "50", "-O", "json")
      let step = try await GuestLoad.run(
        server, "--call", "guestaccess.v1.Health/Check", "--load-schedule", "step", "--load-start", "50", "--load-step", "100",
        "--load-step-duration", "1s", "--load-end", "150", "-z", "2s", "-c", "50", "-O", "json")
      let line = try await GuestLoad.run(
        server, "--call", "guestaccess.v1.Health/Check", "--load-schedule", "line", "--load-start", "50", "--load-step", "100",
        "-z", "2s", "-c", "50", "-O", "json")
      let (c, s, l) = (constant, step, line)
      for run in [c, s, l] { #expect(run.status == 0, "\(run)") }
      let constantReport = try c.decode(LoadReport.self), stepReport = try s.decode(LoadReport.self), lineReport = try l.decode(LoadReport.self)
      // const: 150/s for 2 s; step: 50 then 150 per second; line: ∫₀² (50 + 100 t) dt = 300.
      expectWithin10Percent(Double(constantReport.count), 300, "const")
      expectWithin10Percent(Double(stepReport.count), 200, "step")
      expectWithin10Percent(Double(lineReport.count), 300, "line")
      expectWithin10Percent(calls(stepReport, from: 0, to: 1), 50, "step, first second")
      expectWithin10Percent(calls(stepReport, from: 1, to: 2), 150, "step, second second")
      expectWithin10Percent(calls(lineReport, from: 0, to: 1), 100, "line, first second")
      expectWithin10Percent(calls(lineReport, from: 1, to: 2), 200, "line, second second")
      #expect(constantReport.endReason == "timeout")
    }
  }

  @Test func concurrencyScheduleAddsWorkers() async throws {
    try await withToolServer { server in
      let tenant = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--admin-mail", "admin@contoso.com", key: server.operatorKey)
      // Worker 0 from the start, worker 1 from 0.7 s, worker 2 from 1.4 s; each names its groups.
      let csv = server.workDir + "/calls.csv"
      let run = try await GuestLoad.run(
        server, "--call", "guestaccess.v1.TenantService/CreateGroup", "--api-key", tenant.adminSecret,
        "-d", #"{"displayName": "w{{.WorkerID}}-{{.RequestNumber}}"}"#, "--rps", "30", "-z", "2100ms",
        "--concurrency-schedule", "step", "--concurrency-start", "1", "--concurrency-step", "1", "--concurrency-step-duration", "700ms",
        "--concurrency-end", "3", "-O", "csv", "-o", csv)
      #expect(run.status == 0, "\(run)")
      let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
      let starts = Dictionary(grouping: rows) { Int($0[1])! }.mapValues { $0.map { Double($0[0])! } }
      #expect(Set(starts.keys) == [0, 1, 2], "\(starts.keys)")
      for (worker, times) in starts {
        #expect(times.min()! >= 0.7 * Double(worker) - 0.001, "worker \(worker) started at \(times.min()!) s")
      }
      #expect(starts[0]!.min()! < 0.1)
      // The server saw the same: groups from workers 0, 1 and 2 only, one per call.
      let admin = GuestAccessClient(host: "127.0.0.1", port: server.port, credential: tenant.adminSecret, retryPolicy: .none)
      defer { admin.close() }
      let names = try await admin.tenants.listGroups(ListGroupsRequest(pageSize: 1000)).groups.map(\.displayName)
      #expect(names.count == rows.count && Set(names.map { $0.prefix(2) }) == ["w0", "w1", "w2"], "\(names)")
    }
  }

  @Test func endOfRunSkipFirstAndMaxDuration() async throws {
    try await withToolServer { server in
      // Health/Watch streams never end on their own: at the end of a 500 ms run, two are in flight.
      let watch = ["--call", "guestaccess.v1.Health/Watch", "-c", "2", "-z", "500ms", "-t", "1500ms", "-O", "json"]
      async let close = GuestLoad.run(server, watch + ["--duration-stop", "close"])
      async let ignore = GuestLoad.run(server, watch + ["--duration-stop", "ignore"])
      async let wait = GuestLoad.run(server, watch + ["--duration-stop", "wait"])
      async let skipped = GuestLoad.run(server, "--call", "Health/Check", "-n", "50", "--skipFirst", "10", "-O", "json")
      async let capped = GuestLoad.run(server, "--call", "Health/Check", "-n", "100000", "-x", "1s", "--rps", "100", "-O", "json")
      let reports = try await [close, ignore, wait, skipped, capped].map { try $0.decode(LoadReport.self) }
      #expect(reports[0].statusCodeDistribution == ["UNAVAILABLE": 2], "close: \(reports[0].statusCodeDistribution)")
      #expect(reports[1].count == 0, "ignore: \(reports[1].statusCodeDistribution)")
      #expect(reports[2].statusCodeDistribution == ["DEADLINE_EXCEEDED": 2], "wait: \(reports[2].statusCodeDistribution)")
      #expect(reports[3].count == 40 && reports[3].statusCodeDistribution == ["OK": 40])
      #expect(reports[4].endReason == "timeout" && abs(reports[4].count - 100) <= 10, "\(reports[4].count)")
    }
  }

  /// The health scenario runs its workers as callbacks (no task per call);
  /// `--tasks` runs them as tasks. Both count, skip and stop alike.
  @Test func healthScenarioWithAndWithoutTasks() async throws {
    try await withToolServer { server in
      let counted = ["health", "-n", "3000", "-c", "16", "--warmup", "100", "--skipFirst", "100", "-O", "json"]
      async let callbacks = GuestLoad.run(server, counted)
      async let tasks = GuestLoad.run(server, counted + ["--tasks"])
      async let timed = GuestLoad.run(server, "health", "-c", "8", "-z", "300ms", "-O", "json")
      let reports = try await [callbacks, tasks, timed].map { try $0.decode(LoadReport.self) }
      for report in reports[0...1] {
        #expect(report.count == 2900 && report.statusCodeDistribution == ["OK": 2900], "\(report.count) \(report.statusCodeDistribution)")
      }
      #expect(reports[2].endReason == "timeout" && reports[2].count > 0 && reports[2].statusCodeDistribution.keys.sorted() == ["OK"])
    }
  }

  private func calls(_ report: LoadReport, from: Double, to: Double) -> Double {
    Double(report.timeSeries.filter { $0.start >= from - 1e-9 && $0.start < to - 1e-9 }.map(\.count).reduce(0, +))
  }

  private func expectWithin10Percent(_ measured: Double, _ expected: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(measured - expected) <= expected * 0.1, "\(what): \(measured) calls, expected \(expected) ± 10%", sourceLocation: sourceLocation)
  }
}
