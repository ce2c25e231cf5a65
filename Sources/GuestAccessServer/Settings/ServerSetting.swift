/// One setting of `guestd`: its flag, environment variable, default, parser
/// and help, written once. A value comes from the flag, else the variable,
/// else the default; a flag or variable that does not parse is an error
/// naming both, never a silent default.
public struct ServerSetting<Value: Sendable>: Sendable, SettingDescription {
  /// The flag without its dashes, e.g. `max-connections`.
  public let flag: String
  /// The environment variable, e.g. `GUESTD_MAX_CONNECTIONS`.
  public let variable: String
  /// The default; `nil`: none (the setting is off or derived).
  public let defaultValue: Value?
  /// The default as the docs show it.
  public let defaultText: String
  /// What a value must be, e.g. "an integer from 1 to 1000000".
  public let accepts: String
  /// The flag's help.
  public let help: String
  private let parse: @Sendable (String) -> Value?
  private let shown: @Sendable (String) -> String

  /// A setting whose raw values `parse` reads (`nil`: not acceptable);
  /// `shown` is how an error quotes a refused raw value (e.g. without its password).
  public init(
    _ flag: String, _ variable: String, default defaultValue: Value?, defaultText: String? = nil, accepts: String, help: String,
    shown: @escaping @Sendable (String) -> String = { $0 }, parse: @escaping @Sendable (String) -> Value?
  ) {
    self.shown = shown
    self.flag = flag
    self.variable = variable
    self.defaultValue = defaultValue
    self.defaultText = defaultText ?? defaultValue.map { "\($0)" } ?? "none"
    self.accepts = accepts
    self.help = help
    self.parse = parse
  }

  /// The value: the flag's raw value, else the variable's, else the default.
  /// - Throws: `SettingsError` naming the flag and the variable when the raw value does not parse.
  public func value(flag raw: String?, environment: [String: String]) throws -> Value? {
    guard let raw = raw ?? environment[variable] else { return defaultValue }
    guard let value = parse(raw) else {
      throw SettingsError("--\(flag) (\(variable)) must be \(accepts); got \"\(shown(raw).prefix(200))\"")
    }
    return value
  }

  /// `value(flag:environment:)` of a setting with a default.
  public func required(flag raw: String?, environment: [String: String]) throws -> Value {
    guard let value = try value(flag: raw, environment: environment) else {
      throw SettingsError("--\(flag) (\(variable)) is required: \(accepts)")
    }
    return value
  }
}

/// What the docs and `--help` show of a setting, whatever its value type.
public protocol SettingDescription: Sendable {
  /// The flag without its dashes.
  var flag: String { get }
  /// The environment variable.
  var variable: String { get }
  /// The default as the docs show it.
  var defaultText: String { get }
  /// What a value must be.
  var accepts: String { get }
  /// The flag's help.
  var help: String { get }
}

extension ServerSetting where Value == Int {
  /// An integer in `range`.
  public static func integer(
    _ flag: String, _ variable: String, default defaultValue: Int, range: ClosedRange<Int>, help: String
  ) -> ServerSetting<Int> {
    ServerSetting(
      flag, variable, default: defaultValue, accepts: "an integer from \(range.lowerBound) to \(range.upperBound)", help: help
    ) { Int($0).flatMap { range.contains($0) ? $0 : nil } }
  }
}

extension ServerSetting where Value == Double {
  /// A number of seconds in `range`.
  public static func seconds(
    _ flag: String, _ variable: String, default defaultValue: Double, range: ClosedRange<Double>, help: String
  ) -> ServerSetting<Double> {
    ServerSetting(
      flag, variable, default: defaultValue, defaultText: "\(defaultValue.formatted)",
      accepts: "a number of seconds from \(range.lowerBound.formatted) to \(range.upperBound.formatted)", help: help
    ) { Double($0).flatMap { $0.isFinite && range.contains($0) ? $0 : nil } }
  }
}

extension ServerSetting where Value == String {
  /// Any non-empty text (a path, an address, a URL).
  public static func text(_ flag: String, _ variable: String, default defaultValue: String?, defaultText: String? = nil, accepts: String, help: String) -> ServerSetting<String> {
    ServerSetting(flag, variable, default: defaultValue, defaultText: defaultText, accepts: accepts, help: help) { $0.isEmpty ? nil : $0 }
  }
}

extension Double {
  /// `60` rather than `60.0`.
  fileprivate var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
