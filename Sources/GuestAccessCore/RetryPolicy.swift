/// How a channel retries calls that failed with UNAVAILABLE: jittered
/// exponential backoff, always within the call's deadline.
public struct RetryPolicy: Sendable, Hashable {
  /// Attempts in total, including the first (1 disables retries).
  public var maxAttempts: Int
  /// Backoff before the first retry.
  public var initialBackoff: Duration
  /// Upper bound of any backoff.
  public var maxBackoff: Duration
  /// Growth factor between retries.
  public var multiplier: Double

  /// Creates a policy.
  public init(maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(2), multiplier: Double = 2) {
    self.maxAttempts = max(1, maxAttempts)
    self.initialBackoff = initialBackoff
    self.maxBackoff = maxBackoff
    self.multiplier = multiplier
  }

  /// The default: 5 attempts, 50 ms doubling up to 2 s.
  public static let `default` = RetryPolicy()
  /// No retries.
  public static let none = RetryPolicy(maxAttempts: 1)

  /// The backoff before retry number `retry` (1-based): full jitter over the exponential bound.
  public func backoff(beforeRetry retry: Int) -> Duration {
    let base = Double(initialBackoff.components.seconds) + Double(initialBackoff.components.attoseconds) / 1e18
    let cap = Double(maxBackoff.components.seconds) + Double(maxBackoff.components.attoseconds) / 1e18
    let bound = min(cap, base * pow(multiplier, Double(retry - 1)))
    return .microseconds(Int64(Double.random(in: 0.5...1.0) * bound * 1_000_000))
  }

  private func pow(_ x: Double, _ n: Double) -> Double {
    var result = 1.0
    for _ in 0..<Int(n) { result *= x }
    return result
  }
}
