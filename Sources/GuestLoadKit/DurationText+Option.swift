import GuestAccessCore

extension DurationText {
  /// `--option` parsed, or an error naming it.
  /// - Throws: `LoadSetupError.invalidOption`.
  public static func parse(_ text: String, option: String) throws -> Duration {
    guard let duration = parse(text) else { throw LoadSetupError.invalidOption("\(option) must look like 10s, 500ms or 2m") }
    return duration
  }
}
