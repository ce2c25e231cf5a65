import ArgumentParser
import Foundation
import GuestAccessClient
import GuestAccessTransport
import Histogram

/// `guest-load`: a ghz-style load harness for GuestAccess.
@main
struct GuestLoad: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guest-load",
    abstract: "Load-test a guestd: concurrency, total or duration, rate limit, latency percentiles.",
    version: "0.1.0")

  @Argument(help: "Scenario: \(LoadScenario.allCases.map(\.rawValue).joined(separator: ", ")).")
  var scenario: LoadScenario = .health

  @Option(help: "Server address HOST:PORT.")
  var server: String = "127.0.0.1:7700"

  @Option(name: .customShort("c"), help: "Concurrent calls (workers).")
  var concurrency: Int = 16

  @Option(name: .customShort("n"), help: "Total calls (default 10000 unless -z is given).")
  var total: Int?

  @Option(name: .customShort("z"), help: "Duration, e.g. 10s or 1m (overrides -n).")
  var duration: String?

  @Option(help: "Rate limit in calls per second across all workers (0 = unlimited).")
  var rps: Double = 0

  @Option(help: "TCP connections the calls are spread over.")
  var connections: Int = 1

  @Option(help: "Warm-up calls before measuring (not counted).")
  var warmup: Int = 200

  @Option(help: "Client event loops (threads); default one per core.")
  var loops: Int = EventLoopGroup.coreCount

  @Option(name: .customLong("busy-poll-us"), help: "Microseconds a client event loop polls for replies before it sleeps (0 = off).")
  var busyPollMicros: Int = 50

  @Option(help: "Operator key, to set up a tenant for authenticated scenarios (default: $GUESTACCESS_KEY).")
  var key: String?

  @Option(name: .customLong("admin-key"), help: "Use the existing tenant of this admin key instead of setting one up.")
  var adminKey: String?

  @Option(help: "Per-call timeout in seconds (0 = none).")
  var timeout: Double = 10

  @Flag(help: "Print the summary as JSON.")
  var json = false

  @Flag(help: "Use the client library's default retry policy (UNAVAILABLE and never-processed calls retried with backoff) instead of none.")
  var retry = false

  mutating func validate() throws {
    guard concurrency > 0 else { throw ValidationError("-c must be positive") }
    guard connections > 0 else { throw ValidationError("--connections must be positive") }
    if let total, total <= 0 { throw ValidationError("-n must be positive") }
    if let duration, LoadDuration.parse(duration) == nil { throw ValidationError("-z must look like 10s, 500ms or 2m") }
    guard rps >= 0 else { throw ValidationError("--rps must not be negative") }
  }

  mutating func run() async throws {
    guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
      throw ValidationError("--server must be HOST:PORT")
    }
    guard (0...10_000).contains(busyPollMicros) else { throw ValidationError("--busy-poll-us must be 0…10000") }
    let group = EventLoopGroup(count: loops, name: "ga-load", busyPoll: .microseconds(busyPollMicros))
    let transport = TCPClientTransport(host: String(server[..<colon]), port: port, connections: connections, group: group)
    let operatorKey = key ?? ProcessInfo.processInfo.environment["GUESTACCESS_KEY"]
    do {
      try await transport.connect()
    } catch {
      FileHandle.standardError.write(Data("guest-load: cannot connect to \(server): \(error)\n".utf8))
      throw ExitCode(2)
    }
    let call = try await scenario.prepare(
      transport: transport, operatorKey: operatorKey, adminKey: adminKey, timeout: timeout, retryPolicy: retry ? .default : .none)
    let plan = LoadPlan(
      concurrency: concurrency, total: duration == nil ? (total ?? 10_000) : nil,
      duration: duration.flatMap(LoadDuration.parse), rps: rps, warmup: warmup)
    let showProgress = !json && isatty(STDERR_FILENO) != 0
    let report = await LoadRunner(plan: plan, loops: group.loops, call: call, showProgress: showProgress).run()
    transport.close()
    if json {
      print(report.json(scenario: scenario.rawValue, concurrency: concurrency, connections: connections))
    } else {
      print(report.text(scenario: scenario.rawValue, concurrency: concurrency, connections: connections))
    }
  }
}

/// Parses `10s`, `500ms`, `2m`.
enum LoadDuration {
  static func parse(_ text: String) -> Duration? {
    let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      guard let value = Double(text.dropLast(suffix.count)), value > 0 else { return nil }
      return .microseconds(Int64(value * scale * 1_000_000))
    }
    return nil
  }
}
