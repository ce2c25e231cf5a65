/// Durations as ghz writes them: `500ms`, `10s`, `2m`, `1h` (also `µs`/`us`
/// and `ns`), or a bare number of seconds.
public enum DurationText {
  /// The duration, or nil for text that is not one (or is negative).
  public static func parse(_ text: String) -> Duration? {
    let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      guard let value = Double(text.dropLast(suffix.count)), value >= 0, value.isFinite else { return nil }
      return .nanoseconds(Int64(value * scale * 1e9))
    }
    guard let seconds = Double(text), seconds >= 0, seconds.isFinite else { return nil }
    return .nanoseconds(Int64(seconds * 1e9))
  }

  /// `--option` parsed, or an error naming it.
  /// - Throws: `LoadSetupError.invalidOption`.
  public static func parse(_ text: String, option: String) throws -> Duration {
    guard let duration = parse(text) else { throw LoadSetupError.invalidOption("\(option) must look like 10s, 500ms or 2m") }
    return duration
  }
}
