import Foundation
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
    return try await ChildProcess(executable: executable, arguments: arguments, environment: env, directory: directory)
      .run(timeout: timeout)
  }

  /// Runs `guestctl` against `server` with `key` (nil: none) and `--json` added.
  static func guestctlJSON(_ arguments: [String], server: Int, key: String?) async throws -> ToolResult {
    var environment = ["GUESTACCESS_SERVER": "127.0.0.1:\(server)"]
    if let key { environment["GUESTACCESS_KEY"] = key }
    return try await run("guestctl", arguments + ["--json"], environment: environment)
  }
}

/// One subprocess whose output goes to temporary files (no pipe can fill up).
private final class ChildProcess: @unchecked Sendable {
  private let process = Process()
  private let stdoutPath = NSTemporaryDirectory() + "tool-out-" + UUID().uuidString
  private let stderrPath = NSTemporaryDirectory() + "tool-err-" + UUID().uuidString

  init(executable: URL, arguments: [String], environment: [String: String], directory: String?) {
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
  }

  func run(timeout: Duration) async throws -> ToolResult {
    FileManager.default.createFile(atPath: stdoutPath, contents: nil)
    FileManager.default.createFile(atPath: stderrPath, contents: nil)
    defer {
      try? FileManager.default.removeItem(atPath: stdoutPath)
      try? FileManager.default.removeItem(atPath: stderrPath)
    }
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let watchdog = Task { [process] in
      try await Task.sleep(for: timeout)
      process.terminate()
    }
    let launched = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, any Error>, Never>) in
      process.terminationHandler = { _ in continuation.resume(returning: .success(())) }
      do {
        try process.run()
      } catch {
        process.terminationHandler = nil
        continuation.resume(returning: .failure(error))
      }
    }
    watchdog.cancel()
    try launched.get()
    try? out.close()
    try? err.close()
    let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    return ToolResult(
      status: status, stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
  }
}
