/// Per-call options of a client call.
public struct CallOptions: Sendable, Hashable {
  /// Time allowed for the call, including retries; `nil` for none.
  public var timeout: Duration?
  /// Extra metadata sent with the call (merged after the channel's defaults).
  public var metadata: Metadata
  /// Whether the call may be retried on UNAVAILABLE; `nil` uses the method's idempotency.
  public var retryable: Bool?

  /// Creates options.
  public init(timeout: Duration? = nil, metadata: Metadata = [:], retryable: Bool? = nil) {
    self.timeout = timeout
    self.metadata = metadata
    self.retryable = retryable
  }

  /// No timeout, no extra metadata.
  public static let defaults = CallOptions()
}
