/// A UTC calendar date and time from Unix milliseconds (proleptic Gregorian,
/// computed arithmetically: no time-zone database, no locale data).
public struct CivilTime: Sendable, Hashable {
  /// The year, e.g. 2027.
  public var year: Int
  /// 1 ... 12.
  public var month: Int
  /// 1 ... 31.
  public var day: Int
  /// 0 = Sunday ... 6 = Saturday.
  public var weekday: Int
  /// 0 ... 23.
  public var hour: Int
  /// 0 ... 59.
  public var minute: Int
  /// 0 ... 59.
  public var second: Int

  /// The UTC time of `millis` since the Unix epoch.
  public init(unixMillis millis: Int64) {
    let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
    var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = Int(seconds - days * 86_400)
    hour = secondOfDay / 3600
    minute = secondOfDay / 60 % 60
    second = secondOfDay % 60
    weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4).
    // Howard Hinnant's civil_from_days.
    days += 719_468
    let era = (days >= 0 ? days : days - 146_096) / 146_097
    let dayOfEra = days - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
    month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
    year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
  }

  /// The RFC 5322 date-time, e.g. `Tue, 19 Jan 2027 08:05:00 +0000`.
  public var rfc5322: String {
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return "\(days[weekday]), \(day) \(months[month - 1]) \(year) \(Self.two(hour)):\(Self.two(minute)):\(Self.two(second)) +0000"
  }

  /// `HH:MM`.
  public var hourMinute: String { Self.two(hour) + ":" + Self.two(minute) }

  static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
