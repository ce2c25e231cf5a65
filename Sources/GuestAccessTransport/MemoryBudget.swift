import Synchronization

/// One budget of bytes shared by every connection of a server: the headers of
/// calls waiting for their request message and the responses queued for
/// clients that have not read them yet. While it is exhausted no connection
/// starts a new call (clients are slowed), and a connection whose own queue is
/// over its bound is closed (the client over it), so the server's memory stays
/// within the budget plus what calls already running produce.
public final class MemoryBudget: Sendable {
  /// Bytes the budget allows.
  public let limit: Int
  private let used = Atomic<Int>(0)

  /// Creates a budget of `limit` bytes.
  public init(limit: Int) {
    self.limit = limit
  }

  /// Bytes in use now.
  public var usedBytes: Int { used.load(ordering: .relaxed) }

  /// Whether the bytes in use reached the limit.
  public var isExhausted: Bool { usedBytes >= limit }

  /// Counts `delta` more (or, negative, fewer) bytes in use.
  func add(_ delta: Int) {
    guard delta != 0 else { return }
    used.add(delta, ordering: .relaxed)
  }
}
