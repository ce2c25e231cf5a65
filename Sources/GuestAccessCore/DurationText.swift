/// Lengths of time as the tools take them on the command line: a number
/// and a unit — `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`, `d`, `w` — such
/// as `500ms`, `1.5s`, `30m`, `7d`, or a bare number of seconds. One parser
/// for guestctl, guest-probe and guest-load, so `10s` means the same
/// everywhere; each tool then says what it accepts (whole seconds,
/// more than zero).
public enum DurationText {
  private static let units: [(suffix: String, seconds: Double)] = [
    ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800),
  ]

  /// The duration, or nil for text that is not one (or is negative).
  public static func parse(_ text: String) -> Duration? {
    var number = Substring(text)
    var scale = 1.0
    // Longest suffix first: "ms" before "s".
    for unit in units.sorted(by: { $0.suffix.count > $1.suffix.count }) where text.hasSuffix(unit.suffix) {
      number = text.dropLast(unit.suffix.count)
      scale = unit.seconds
      break
    }
    guard let value = Double(number), value >= 0, value.isFinite, value * scale < 9e9 else { return nil }
    return .nanoseconds(Int64((value * scale * 1e9).rounded()))
  }
}
