import Foundation
import GuestAccessClient

/// How values look in tables and detail views.
enum Display {
  /// An epoch-milliseconds time as ISO 8601 UTC (`2026-11-29T01:10:17Z`); "-" for 0.
  static func time(_ millis: Int64) -> String {
    guard millis != 0 else { return "-" }
    var seconds = time_t(millis / 1000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return String(
      format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
  }

  /// An enum value's schema name without its type prefix, e.g. `PENDING_ACCEPTANCE`; "-" for the zero value.
  static func name(_ value: some ProtoEnum) -> String {
    value.rawValue == 0 ? "-" : shortName(value)
  }

  /// An enum value's schema name without its type prefix, the zero value included.
  static func shortName<E: ProtoEnum>(_ value: E) -> String {
    let prefix = enumPrefix(E.self)
    let full = value.protoName
    return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
  }

  /// The common prefix of an enum's schema names, e.g. `EXTERNAL_USER_STATE_`.
  static func enumPrefix<E: ProtoEnum>(_ type: E.Type) -> String {
    let zero = E(rawValue: 0).protoName
    guard let underscore = zero.lastIndex(of: "_") else { return "" }
    return String(zero[...underscore])
  }

  /// Short names of a list of enum values, comma separated; "-" when empty.
  static func names<E: ProtoEnum>(_ values: [E]) -> String {
    values.isEmpty ? "-" : values.map { shortName($0) }.joined(separator: ",")
  }

  /// A list of strings, comma separated; "-" when empty.
  static func list(_ values: [String]) -> String {
    values.isEmpty ? "-" : values.joined(separator: ",")
  }

  /// A string, or "-" when empty.
  static func text(_ value: String) -> String {
    value.isEmpty ? "-" : value
  }

  /// `yes` or `no`.
  static func yesNo(_ value: Bool) -> String {
    value ? "yes" : "no"
  }

  /// A number of seconds as a short duration: `45s`, `30m`, `2h`, `7d`.
  static func seconds(_ value: Int64) -> String {
    if value >= 86_400 && value % 86_400 == 0 { return "\(value / 86_400)d" }
    if value >= 3600 && value % 3600 == 0 { return "\(value / 3600)h" }
    if value >= 60 && value % 60 == 0 { return "\(value / 60)m" }
    return "\(value)s"
  }
}
