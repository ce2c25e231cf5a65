import Foundation
import GuestAccessTestSupport
import Testing

/// Runs the built command-line tools (`guestctl`, `guest-probe`) as subprocesses.
enum Tools {
  /// The build products directory: the one holding the test bundle, where
  /// SwiftPM also puts the executables this target depends on.
  static let productsDirectory: URL = {
    let bundle = Bundle.main.bundleURL
    let candidates = [
      bundle, bundle.deletingLastPathComponent(), URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
      URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug"),
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("guestctl").path) }
      ?? candidates.last!
  }()

  /// The repository root (for README.md).
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// Runs `tool` from the products directory with `arguments`. The child
  /// inherits this process's environment without any `GUESTACCESS_*`
  /// variable, plus `environment`. It is killed after `timeout`.
  static func run(
    _ tool: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
    timeout: Duration = .seconds(60)
  ) async throws -> ToolResult {
    let executable = tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : productsDirectory.appendingPathComponent(tool)
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GUESTACCESS_") }
    env.merge(environment) { $1 }
    let output = try await Subprocess.run(executable.path, arguments, environment: env, directory: directory, timeout: timeout)
    return ToolResult(status: output.status, stdout: output.stdoutText, stderr: output.stderrText)
  }

  /// Runs `guestctl` against `server` with `key` (nil: none) and `--json` added.
  static func guestctlJSON(_ arguments: [String], server: Int, key: String?) async throws -> ToolResult {
    var environment = ["GUESTACCESS_SERVER": "127.0.0.1:\(server)"]
    if let key { environment["GUESTACCESS_KEY"] = key }
    return try await run("guestctl", arguments + ["--json"], environment: environment)
  }
}
