import ArgumentParser
import Foundation

/// Writes to standard error and flushes standard output.
enum Console {
  /// Writes a line to standard error.
  static func error(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  /// Prints a line to standard output and flushes it (for streams read by pipes).
  static func line(_ text: String) {
    print(text)
    fflush(nil)
  }
}

/// Prints `error: message` on standard error and returns exit status 1 to throw.
func failure(_ message: String) -> ExitCode {
  Console.error("error: " + message)
  return ExitCode(1)
}
