/// Parses probe durations such as `1s`, `500ms`, `2m`, `1.5s`.
enum ProbeDuration {
  static func parse(_ text: String) -> Duration? {
    let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("s", 1), ("m", 60)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      guard let value = Double(text.dropLast(suffix.count)), value > 0 else { return nil }
      return .microseconds(Int64(value * scale * 1_000_000))
    }
    return nil
  }
}
