import GuestAccessCore
import Testing

@Suite("Durations on the command line")
struct DurationTextTests {
  @Test("every unit, fractions and bare seconds")
  func units() {
    #expect(DurationText.parse("250ns") == .nanoseconds(250))
    #expect(DurationText.parse("5us") == .microseconds(5))
    #expect(DurationText.parse("5µs") == .microseconds(5))
    #expect(DurationText.parse("500ms") == .milliseconds(500))
    #expect(DurationText.parse("1.5s") == .milliseconds(1500))
    #expect(DurationText.parse("2m") == .seconds(120))
    #expect(DurationText.parse("12h") == .seconds(43_200))
    #expect(DurationText.parse("7d") == .seconds(604_800))
    #expect(DurationText.parse("2w") == .seconds(1_209_600))
    #expect(DurationText.parse("90") == .seconds(90))
    #expect(DurationText.parse("0") == .zero)
  }

  @Test("what is not a duration is nil")
  func refused() {
    for text in ["", "s", "-1s", "1x", "ten s", "1e400s", "nan", "inf", "1s2", "1 s", "99999999999w"] {
      #expect(DurationText.parse(text) == nil, "\(text)")
    }
  }
}
