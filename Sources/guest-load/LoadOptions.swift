import GuestAccessClient
import ArgumentParser
import GuestLoadKit

extension LoadSchedule.Kind: ExpressibleByArgument {}
extension DurationStop: ExpressibleByArgument {}

/// How much load, shaped how (ghz's names).
struct LoadOptions: ParsableArguments {
  @Option(name: [.customShort("c"), .customLong("concurrency")], help: "Concurrent workers (with --concurrency-schedule const).")
  var concurrency: Int = 16

  @Option(name: .customLong("concurrency-schedule"), help: "Workers over time: const, step or line.")
  var concurrencySchedule: LoadSchedule.Kind = .const

  @Option(name: .customLong("concurrency-start"), help: "Workers at the start of a step or line schedule.")
  var concurrencyStart: Int = 1

  @Option(name: .customLong("concurrency-end"), help: "Workers at which a step or line schedule stops changing (0: none).")
  var concurrencyEnd: Int = 0

  @Option(name: .customLong("concurrency-step"), help: "Workers added per step (step) or per second (line); negative to remove.")
  var concurrencyStep: Int = 1

  @Option(name: .customLong("concurrency-step-duration"), help: ArgumentHelp("Length of one concurrency step, e.g. 5s.", valueName: "duration"))
  var concurrencyStepDuration: String?

  @Option(name: .customLong("concurrency-max-duration"), help: ArgumentHelp("Stop changing the concurrency after this long.", valueName: "duration"))
  var concurrencyMaxDuration: String?

  @Option(name: [.customShort("n"), .customLong("total")], help: "Calls to make (default 10000; ignored with -z).")
  var total: Int?

  @Option(name: [.customShort("z"), .customLong("duration")], help: ArgumentHelp("Run for this long, e.g. 10s or 1m (-n is ignored).", valueName: "duration"))
  var duration: String?

  @Option(name: [.customShort("x"), .customLong("max-duration")], help: ArgumentHelp("Stop after this long even if -n calls are not made.", valueName: "duration"))
  var maxDuration: String?

  @Option(name: .customLong("duration-stop"), help: "When the time is up: close (connections; calls in flight fail), wait (for calls in flight) or ignore (close and leave them out).")
  var durationStop: DurationStop = .wait

  @Option(name: [.customShort("r"), .customLong("rps")], help: "Calls per second over all workers (0: unlimited; --load-schedule const).")
  var rps: Double = 0

  @Option(name: .customLong("load-schedule"), help: "Calls per second over time: const (--rps), step or line.")
  var loadSchedule: LoadSchedule.Kind = .const

  @Option(name: .customLong("load-start"), help: "Calls per second at the start of a step or line schedule.")
  var loadStart: Double = 0

  @Option(name: .customLong("load-end"), help: "Calls per second at which a step or line schedule stops changing (0: none).")
  var loadEnd: Double = 0

  @Option(name: .customLong("load-step"), help: "Calls per second added per step (step) or per second (line); negative to decrease.")
  var loadStep: Double = 0

  @Option(name: .customLong("load-step-duration"), help: ArgumentHelp("Length of one load step, e.g. 5s.", valueName: "duration"))
  var loadStepDuration: String?

  @Option(name: .customLong("load-max-duration"), help: ArgumentHelp("Stop changing the rate after this long.", valueName: "duration"))
  var loadMaxDuration: String?

  @Option(name: .customLong("skipFirst"), help: "Leave the first N responses out of the report.")
  var skipFirst: Int = 0

  @Flag(name: .customLong("count-errors"), help: "Count failed calls in the latency figures too (by default only OK calls).")
  var countErrors = false

  @Flag(name: .customLong("tasks"), help: "Make every call a task awaiting its answer, also where a call can be started from the answer of the last without one (the health scenario, or a unary --call with the same request and metadata every time, without --rps, a schedule or --retry); to compare the two.")
  var tasks = false

  @Option(help: "Calls made before the run and not reported (default 200 for scenarios, 0 with --call).")
  var warmup: Int?

  @Option(name: [.customShort("t"), .customLong("timeout")], help: ArgumentHelp("Timeout of each call, e.g. 10s or 500ms (0: none).", valueName: "duration"))
  var timeout: String = "10s"

  func validate() throws {
    guard concurrency > 0 else { throw ValidationError("-c must be positive") }
    if let total, total <= 0 { throw ValidationError("-n must be positive") }
    if duration != nil && maxDuration != nil { throw ValidationError("give -z or -x, not both") }
    guard rps >= 0 else { throw ValidationError("--rps must not be negative") }
    guard skipFirst >= 0 else { throw ValidationError("--skipFirst must not be negative") }
    if let warmup, warmup < 0 { throw ValidationError("--warmup must not be negative") }
    guard DurationText.parse(timeout) != nil else { throw ValidationError("-t must look like 10s or 500ms") }
  }

  /// The per-call timeout (nil: none).
  var callTimeout: Duration? {
    let parsed = DurationText.parse(timeout) ?? .seconds(10)
    return parsed == .zero ? nil : parsed
  }

  /// The plan these options describe.
  /// - Throws: `LoadSetupError.invalidOption` for schedules that contradict themselves.
  func plan(isScenario: Bool) throws -> LoadPlan {
    let workers: LoadSchedule
    if concurrencySchedule == .const {
      workers = .const(Double(concurrency))
    } else {
      workers = LoadSchedule(
        kind: concurrencySchedule, start: Double(concurrencyStart), step: Double(concurrencyStep),
        end: concurrencyEnd > 0 ? Double(concurrencyEnd) : nil,
        stepDuration: try concurrencyStepDuration.map { try DurationText.parse($0, option: "--concurrency-step-duration").seconds } ?? 0,
        maxDuration: try concurrencyMaxDuration.map { try DurationText.parse($0, option: "--concurrency-max-duration").seconds })
      try workers.validate("--concurrency")
      guard workers.peak != nil else {
        throw LoadSetupError.invalidOption("a rising --concurrency-schedule needs --concurrency-end or --concurrency-max-duration")
      }
    }
    let rate: LoadSchedule?
    if loadSchedule == .const {
      rate = rps > 0 ? .const(rps) : nil
    } else {
      let schedule = LoadSchedule(
        kind: loadSchedule, start: loadStart, step: loadStep, end: loadEnd > 0 ? loadEnd : nil,
        stepDuration: try loadStepDuration.map { try DurationText.parse($0, option: "--load-step-duration").seconds } ?? 0,
        maxDuration: try loadMaxDuration.map { try DurationText.parse($0, option: "--load-max-duration").seconds })
      try schedule.validate("--load")
      rate = schedule
    }
    let runTime = try duration.map { try DurationText.parse($0, option: "-z") }
    let maxTime = try maxDuration.map { try DurationText.parse($0, option: "-x") }
    return LoadPlan(
      concurrency: workers, total: runTime == nil ? (total ?? 10_000) : nil, duration: runTime ?? maxTime, rate: rate,
      warmup: warmup ?? (isScenario ? 200 : 0), skipFirst: skipFirst, durationStop: durationStop, countErrors: countErrors)
  }

  var reportOptions: [String: String] {
    var options: [String: String] = ["timeout": timeout, "duration-stop": durationStop.rawValue]
    if concurrencySchedule == .const {
      options["concurrency"] = "\(concurrency)"
    } else {
      options["concurrency-schedule"] =
        "\(concurrencySchedule.rawValue) start=\(concurrencyStart) step=\(concurrencyStep) end=\(concurrencyEnd) step-duration=\(concurrencyStepDuration ?? "-") max-duration=\(concurrencyMaxDuration ?? "-")"
    }
    if loadSchedule == .const {
      options["rps"] = rps > 0 ? OptionNumber.text(rps) : "unlimited"
    } else {
      options["load-schedule"] =
        "\(loadSchedule.rawValue) start=\(OptionNumber.text(loadStart)) step=\(OptionNumber.text(loadStep)) end=\(OptionNumber.text(loadEnd)) step-duration=\(loadStepDuration ?? "-") max-duration=\(loadMaxDuration ?? "-")"
    }
    if let duration { options["duration"] = duration } else { options["total"] = "\(total ?? 10_000)" }
    if let maxDuration { options["max-duration"] = maxDuration }
    if skipFirst > 0 { options["skipFirst"] = "\(skipFirst)" }
    if let warmup { options["warmup"] = "\(warmup)" }
    if countErrors { options["count-errors"] = "true" }
    return options
  }
}

/// Numbers without trailing zeros, for the report's options.
enum OptionNumber {
  static func text(_ value: Double) -> String {
    value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
  }
}
