/// When to try a message again: exponential backoff up to a cap, and a
/// maximum number of attempts.
struct DeliveryBackoff: Sendable {
  /// Attempts before a message fails for good.
  var maxAttempts: Int
  /// The wait after the first failed attempt (ms).
  var baseMillis: Int64
  /// The longest wait (ms).
  var maxMillis: Int64

  init(settings: EmailSettings) {
    maxAttempts = settings.maxAttempts
    baseMillis = Int64(settings.retryDelay * 1000)
    maxMillis = Int64(settings.maxRetryDelay * 1000)
  }

  /// The wait after attempt number `attempt` (1-based) failed: base × 2^(attempt−1), capped.
  func delay(afterAttempt attempt: Int) -> Int64 {
    let doublings = min(max(attempt - 1, 0), 30)
    let delay = baseMillis.multipliedReportingOverflow(by: Int64(1) << doublings)
    return delay.overflow ? maxMillis : min(delay.partialValue, maxMillis)
  }
}
