import Synchronization

/// How a quantity (calls per second, or workers) changes over a run, as ghz
/// shapes load: `const` holds it; `step` starts at `start` and adds `step`
/// every `stepDuration`; `line` starts at `start` and adds `step` per second,
/// continuously. Both stop changing at `end` (when set) or after
/// `maxDuration` (when set), whichever comes first, and then hold.
public struct LoadSchedule: Sendable, Hashable, Codable {
  /// The shape.
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
    case const, step, line
  }

  public var kind: Kind
  /// The value of `const`, or the first value of `step` and `line`.
  public var start: Double
  /// Added per step (`step`) or per second (`line`); negative to decrease.
  public var step: Double
  /// Where the change stops (nil: no end).
  public var end: Double?
  /// The length of one step (`step` only).
  public var stepDuration: Double
  /// Seconds after which the change stops (nil: no limit).
  public var maxDuration: Double?

  /// A constant value.
  public static func const(_ value: Double) -> LoadSchedule {
    LoadSchedule(kind: .const, start: value, step: 0, end: nil, stepDuration: 0, maxDuration: nil)
  }

  public init(kind: Kind, start: Double, step: Double, end: Double?, stepDuration: Double, maxDuration: Double?) {
    self.kind = kind
    self.start = start
    self.step = step
    self.end = end
    self.stepDuration = stepDuration
    self.maxDuration = maxDuration
  }

  /// Checks the parameters (`what` names the options, e.g. `--load`).
  /// - Throws: `LoadSetupError.invalidOption`.
  public func validate(_ what: String) throws {
    guard start >= 0, (end ?? 0) >= 0 else { throw LoadSetupError.invalidOption("\(what)-start and \(what)-end must not be negative") }
    switch kind {
    case .const: break
    case .step:
      guard stepDuration > 0 else { throw LoadSetupError.invalidOption("\(what)-schedule=step needs \(what)-step-duration") }
      guard step != 0 else { throw LoadSetupError.invalidOption("\(what)-schedule=step needs a non-zero \(what)-step") }
    case .line:
      guard step != 0 else { throw LoadSetupError.invalidOption("\(what)-schedule=line needs a non-zero \(what)-step") }
    }
    if let maxDuration, maxDuration <= 0 { throw LoadSetupError.invalidOption("\(what)-max-duration must be positive") }
    if let end, kind != .const, (step > 0 && end < start) || (step < 0 && end > start) {
      throw LoadSetupError.invalidOption("\(what)-end is on the wrong side of \(what)-start for the sign of \(what)-step")
    }
  }

  /// The value `seconds` into the run.
  public func value(at seconds: Double) -> Double {
    let t = min(max(0, seconds), maxDuration ?? .infinity)
    let raw: Double
    switch kind {
    case .const: return start
    case .step: raw = start + step * (t / stepDuration).rounded(.down)
    case .line: raw = start + step * t
    }
    guard let end else { return max(0, raw) }
    return max(0, step > 0 ? min(raw, end) : max(raw, end))
  }

  /// The largest value the schedule reaches (nil: it grows without bound).
  public var peak: Double? {
    if kind == .const || step < 0 { return start }
    if let end { return end }
    if let maxDuration { return value(at: maxDuration) }
    return nil
  }

  /// The first time at or after `seconds` when the value exceeds `level`
  /// (nil: never, given the schedule's direction and limits).
  public func firstTime(above level: Double, after seconds: Double) -> Double? {
    if value(at: seconds) > level { return seconds }
    guard kind != .const, step > 0 else { return nil }
    let horizon = maxDuration ?? .infinity
    var t: Double
    switch kind {
    case .const: return nil
    case .step:
      let steps = ((level - start) / step).rounded(.down) + 1
      t = steps * stepDuration
    case .line:
      t = (level - start) / step
      t = t.nextUp
    }
    t = max(t, seconds)
    guard t <= horizon, value(at: t) > level else { return nil }
    return t
  }
}

/// Hands out the times at which calls start so that they follow a rate
/// schedule, shared by all workers (each takes the next free time).
final class RatePacer: Sendable {
  private let schedule: LoadSchedule
  private let next = Mutex<Double>(0)

  init(schedule: LoadSchedule) {
    self.schedule = schedule
  }

  /// Seconds from the start of the run at which the next call is due.
  func nextDue() -> Double {
    next.withLock { next in
      var due = next
      var rate = schedule.value(at: due)
      if rate <= 0 {
        // Zero calls per second now: wait for the schedule to rise above 0.
        guard let later = schedule.firstTime(above: 0, after: due) else { return .infinity }
        due = later
        rate = schedule.value(at: due)
      }
      next = due + 1 / rate
      return due
    }
  }
}
