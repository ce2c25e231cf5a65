import ArgumentParser
import GuestAccessJSON
import GuestLoadKit

extension ReportFormat: ExpressibleByArgument {}

/// What the run prints, and where.
struct OutputOptions: ParsableArguments {
  @Option(name: [.customShort("O"), .customLong("format")], help: "Report format: summary, json, csv, html or prometheus.")
  var format: ReportFormat = .summary

  @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write the report to this file instead of standard output.", valueName: "path"))
  var output: String?

  @Option(help: "A name for the run, shown in every report.")
  var name: String?

  @Option(help: ArgumentHelp("Tags for the report as a JSON object of strings, e.g. '{\"env\":\"staging\"}'.", valueName: "json"))
  var tags: String?

  @Flag(help: "No progress line on standard error.")
  var quiet = false

  /// `--tags` as a dictionary.
  /// - Throws: `LoadSetupError` for JSON that is not an object of strings.
  func parsedTags() throws -> [String: String] {
    guard let tags else { return [:] }
    guard case .object(let object) = try JSONValue.parse(tags, what: "--tags") else {
      throw LoadSetupError.invalidOption("--tags must be a JSON object of strings")
    }
    var result: [String: String] = [:]
    for (key, value) in object {
      guard let text = value.metadataText else { throw LoadSetupError.invalidOption("--tags: the value of \"\(key)\" is not a string") }
      result[key] = text
    }
    return result
  }
}
