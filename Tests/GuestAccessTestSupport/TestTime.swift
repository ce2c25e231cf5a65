#if canImport(Glibc)
import Glibc
#endif

/// How much slower than a normal run this test run may be: the factor in the
/// environment variable `GA_TEST_TIME_SCALE` (default 1; `Scripts/sanitize`
/// sets 8 under ThreadSanitizer and 4 under AddressSanitizer, whose
/// instrumented code runs 5–15× slower).
///
/// Apply it (`.scaled`) only to bounds that a correct but slowed-down run can
/// miss: upper bounds on elapsed time, how long a test waits for something to
/// happen, timeouts that must not expire. Never to lower bounds, nor to a
/// timeout the test expects to fire, nor to anything that would let a broken
/// behaviour pass: at scale 1 every bound is exactly what it was.
public enum TestTime {
  /// The factor (at least 1).
  public static let scale: Double = {
    guard let text = getenv("GA_TEST_TIME_SCALE").map({ String(cString: $0) }), let value = Double(text),
      value.isFinite, value >= 1
    else { return 1 }
    return value
  }()

  /// `seconds` stretched by `scale`.
  public static func scaled(_ seconds: Double) -> Double { seconds * scale }
}

extension Duration {
  /// This duration stretched by `TestTime.scale` (see there for when to use it).
  public var scaled: Duration { self * TestTime.scale }
}
