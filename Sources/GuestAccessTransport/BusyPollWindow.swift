/// How long an event loop polls for events before it sleeps, adapted to
/// what polling found: a window in which events arrived keeps its full
/// length (a peer that answers within it is read without a wake-up); a
/// window that ended empty halves the next one, down to a sixteenth, so a
/// peer slower than the window (a client preparing its next batch of calls)
/// does not cost a full window of polling every time before the loop sleeps.
/// A pure value; the loop keeps one.
struct BusyPollWindow: Sendable, Equatable {
  /// The longest window (the configured one), in nanoseconds.
  let maximum: UInt64
  /// The next window, in nanoseconds.
  private(set) var current: UInt64

  /// A window of at most `maximum` nanoseconds (0: never poll).
  init(maximum: UInt64) {
    self.maximum = maximum
    current = maximum
  }

  /// The shortest window polling shrinks to.
  var minimum: UInt64 { maximum / 16 }

  /// Events arrived within the window.
  mutating func caught() {
    current = maximum
  }

  /// The window ended without events.
  mutating func missed() {
    current = max(current / 2, minimum)
  }
}
