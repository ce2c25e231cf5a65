import GuestAccessClient

/// How a failed call is reported: `error: CODE: message` with the reason,
/// bad fields and retry hint, and the exit status.
enum ErrorReport {
  /// The lines printed on standard error.
  static func text(for error: RPCError) -> String {
    var line = "error: \(error.code.name): \(error.message)"
    if let reason = error.reason?.rawValue, reason != error.code.name { line += " (reason: \(reason))" }
    var lines = [line]
    for violation in error.fieldViolations where !error.message.contains(violation.description) {
      lines.append("  \(violation.field): \(violation.description)")
    }
    if let delay = error.retryDelayMillis {
      lines.append("  retry after \(Display.seconds(Int64(delay + 999) / 1000))")
    }
    return lines.joined(separator: "\n")
  }

  /// The exit status for a failed call: 2 + the gRPC status code (3...18).
  static func exitCode(for error: RPCError) -> Int32 {
    Int32(2 + min(error.code.rawValue, 16))
  }
}
