import CGuestAccessTestSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process of a test, started with `posix_spawn` (see
/// `ga_test_spawn`): standard streams go to files, so no pipe can fill up,
/// and every other descriptor of the test process stays out of the child.
public final class Subprocess: @unchecked Sendable {
  /// What a finished run printed and how it ended.
  public struct Output: Sendable {
    /// The exit status, or 128 + the signal that ended it.
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
  }

  /// Failure to start the child.
  public struct SpawnError: Error, CustomStringConvertible {
    public var description: String
  }

  /// The child's process id.
  public let pid: pid_t
  private let lock = NSLock()
  private var exitStatus: Int32?

  /// Starts `executable` (an absolute path) with `arguments`; `environment`
  /// nil inherits this process's. Streams: paths of files (nil: /dev/null).
  public init(
    executable: String, arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
    stdin: String? = nil, stdout: String? = nil, stderr: String? = nil
  ) throws {
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
    defer {
      argv.forEach { free($0) }
      envp?.forEach { free($0) }
    }
    var pid: pid_t = 0
    let rc = envp.withOptionalBuffer { envBuffer in
      ga_test_spawn(&pid, executable, argv, envBuffer, directory, stdin, stdout, stderr)
    }
    guard rc == 0 else { throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(rc)))") }
    self.pid = pid
  }

  deinit {
    // Never leave a zombie or an orphan behind a failed test.
    if reap(blocking: false) == nil {
      kill(pid, SIGKILL)
      _ = reap(blocking: true)
    }
  }

  /// Whether the child has not exited yet.
  public var isRunning: Bool { reap(blocking: false) == nil }

  /// Sends `signal` to the child (if it has not been reaped).
  public func signal(_ signal: Int32) {
    lock.lock()
    defer { lock.unlock() }
    if exitStatus == nil { kill(pid, signal) }
  }

  /// Blocks until the child exits; returns its status.
  @discardableResult
  public func waitUntilExit() -> Int32 {
    reap(blocking: true) ?? 255
  }

  /// Waits without blocking a thread; after `timeout` the child is killed. Returns its status.
  @discardableResult
  public func exit(within timeout: Duration) async -> Int32 {
    let deadline = ContinuousClock.now + timeout
    while true {
      if let status = reap(blocking: false) { return status }
      if ContinuousClock.now >= deadline || Task.isCancelled { signal(SIGKILL) }
      try? await Task.sleep(for: .milliseconds(5))
    }
  }

  /// The exit status once the child has exited (reaping it), nil while it runs.
  /// Blocking waits without the lock (`waitid` with `WNOWAIT`), so `signal`
  /// and `isRunning` stay usable from other threads meanwhile.
  private func reap(blocking: Bool) -> Int32? {
    if blocking {
      var info = siginfo_t()
      while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
    }
    lock.lock()
    defer { lock.unlock() }
    if let exitStatus { return exitStatus }
    var raw: Int32 = 0
    var result: pid_t
    repeat {
      result = waitpid(pid, &raw, WNOHANG)
    } while result == -1 && errno == EINTR
    if result == -1 {
      // ECHILD: reaped outside this object (never by this code); the status is lost.
      exitStatus = 255
      return 255
    }
    guard result == pid else { return nil }
    let signal = raw & 0x7f
    let status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    exitStatus = status
    return status
  }

  /// Runs `executable` to the end (killed after `timeout`) and returns its output.
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
    input: [UInt8]? = nil, timeout: Duration = .seconds(60)
  ) async throws -> Output {
    try await withFiles(input: input) { files in
      let child = try Subprocess(
        executable: executable, arguments: arguments, environment: environment, directory: directory,
        stdin: files.stdin, stdout: files.stdout, stderr: files.stderr)
      return await child.exit(within: timeout)
    }
  }

  /// `run` for synchronous callers: blocks the calling thread until the child exits.
  public static func runBlocking(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
    input: [UInt8]? = nil
  ) throws -> Output {
    let files = try TemporaryFiles(input: input)
    defer { files.remove() }
    let child = try Subprocess(
      executable: executable, arguments: arguments, environment: environment, directory: directory,
      stdin: files.stdin, stdout: files.stdout, stderr: files.stderr)
    let status = child.waitUntilExit()
    return files.output(status: status)
  }

  private static func withFiles(input: [UInt8]?, _ body: (TemporaryFiles) async throws -> Int32) async throws -> Output {
    let files = try TemporaryFiles(input: input)
    defer { files.remove() }
    let status = try await body(files)
    return files.output(status: status)
  }
}

/// Files for a child's standard streams, in a directory of their own.
private struct TemporaryFiles {
  let directory: String
  var stdin: String?
  var stdout: String { directory + "/stdout" }
  var stderr: String { directory + "/stderr" }

  init(input: [UInt8]?) throws {
    directory = NSTemporaryDirectory() + "ga-subprocess-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    if let input {
      stdin = directory + "/stdin"
      try Data(input).write(to: URL(fileURLWithPath: stdin!))
    }
  }

  func output(status: Int32) -> Subprocess.Output {
    let read = { (path: String) in (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) } ?? [] }
    return Subprocess.Output(status: status, stdout: read(stdout), stderr: read(stderr))
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: directory)
  }
}

extension Optional where Wrapped == [UnsafeMutablePointer<CChar>?] {
  fileprivate func withOptionalBuffer<R>(_ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
    guard let self else { return body(nil) }
    return self.withUnsafeBufferPointer { body($0.baseAddress) }
  }
}
