import Foundation
import Testing

/// What a finished tool run printed and how it exited.
struct ToolResult: Sendable, CustomStringConvertible {
  /// The exit status (or 128 + the signal number when killed).
  let status: Int32
  /// Standard output.
  let stdout: String
  /// Standard error.
  let stderr: String

  /// Standard output decoded as JSON into `type`.
  func decode<T: Decodable>(_ type: T.Type, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(stdout.utf8))
    } catch {
      Issue.record("cannot decode \(type) from the output of a run: \(self)", sourceLocation: sourceLocation)
      throw error
    }
  }

  var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}
