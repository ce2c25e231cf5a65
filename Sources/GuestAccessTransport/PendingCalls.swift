import GuestAccessProto

/// The calls of one connection whose HEADERS arrived and whose request
/// message has not, with the sum of their header bytes (which the connection
/// counts in the server's `MemoryBudget`). A plain value: no locks, no clocks.
struct PendingCalls {
  struct Call {
    var headers: CallHeaders
    /// The deadline counts from the HEADERS.
    var deadline: ContinuousClock.Instant?
    /// When the HEADERS arrived (or reading last resumed), for the frame timeout.
    var since: UInt64
    var headerBytes: Int
  }

  private var calls: [UInt32: Call] = [:]
  /// Header bytes of the pending calls.
  private(set) var headerBytes = 0

  init() {}

  var count: Int { calls.count }
  var isEmpty: Bool { calls.isEmpty }
  var ids: [UInt32] { calls.keys.sorted() }
  /// When the oldest pending call's HEADERS arrived.
  var oldest: UInt64? { calls.values.lazy.map(\.since).min() }

  mutating func add(_ callID: UInt32, _ call: Call) {
    calls[callID] = call
    headerBytes += call.headerBytes
  }

  @discardableResult
  mutating func remove(_ callID: UInt32) -> Call? {
    guard let call = calls.removeValue(forKey: callID) else { return nil }
    headerBytes -= call.headerBytes
    return call
  }

  /// Removes every call; returns the header bytes they held.
  mutating func removeAll() -> Int {
    let bytes = headerBytes
    calls = [:]
    headerBytes = 0
    return bytes
  }

  /// Pending calls whose HEADERS arrived before `time`.
  func ids(since time: UInt64) -> [UInt32] {
    calls.filter { $0.value.since < time }.keys.sorted()
  }

  mutating func restartClocks(_ now: UInt64) {
    for callID in calls.keys { calls[callID]?.since = now }
  }
}
