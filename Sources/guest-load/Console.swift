import ArgumentParser
import Foundation
import GuestLoadKit

/// Standard error and exit codes.
enum Console {
  /// Exit code of a setup mistake (unknown method, request that does not fit, bad option): EX_USAGE.
  static let usageExitCode: Int32 = 64
  /// Exit code when the server cannot be reached.
  static let unavailableExitCode: Int32 = 2

  static func error(_ text: String) {
    FileHandle.standardError.write(Data("guest-load: \(text)\n".utf8))
  }

  /// Runs `body`; a `LoadSetupError` is printed and exits with 64.
  static func exitOnSetupError<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as LoadSetupError {
      Self.error(error.description)
      throw ExitCode(usageExitCode)
    }
  }
}
