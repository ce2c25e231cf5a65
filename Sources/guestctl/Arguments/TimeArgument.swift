import ArgumentParser
import Foundation
import GuestAccessClient

/// A point in time on the command line: `2026-12-31` (midnight UTC),
/// `2026-12-31T17:00:00Z` (ISO 8601), a time from now such as `30d`, `12h`,
/// `45m` (or `-30d` in the past), or `never` (no time: 0).
struct TimeArgument: ExpressibleByArgument {
  /// Epoch milliseconds; 0 for `never`.
  let millis: Int64

  init?(argument: String) {
    let text = argument.trimmingCharacters(in: .whitespaces)
    if ["never", "none", "0"].contains(text.lowercased()) {
      millis = 0
    } else if let offset = DurationArgument(argument: text.hasPrefix("-") ? String(text.dropFirst()) : text) {
      let now = Int64(Date().timeIntervalSince1970 * 1000)
      millis = now + (text.hasPrefix("-") ? -1 : 1) * offset.seconds * 1000
    } else if let date = Self.parseDate(text) {
      millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
    } else {
      return nil
    }
  }

  private static func parseDate(_ text: String) -> Date? {
    let full = ISO8601DateFormatter()
    if let date = full.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = fractional.date(from: text) { return date }
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    return day.date(from: text)
  }

  static var defaultCompletionKind: CompletionKind { .default }
}

/// A length of time in whole seconds: `90` or `90s`, `30m`, `12h`, `7d`, `2w`
/// (`DurationText`, the tools' one duration syntax; a fraction of a second
/// is refused).
struct DurationArgument: ExpressibleByArgument {
  /// The length in seconds.
  let seconds: Int64

  init?(argument: String) {
    guard let duration = DurationText.parse(argument.lowercased()), duration.components.attoseconds == 0 else { return nil }
    seconds = duration.components.seconds
  }
}
