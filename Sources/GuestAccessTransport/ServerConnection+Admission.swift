import GuestAccessCore
import GuestAccessProto
import GuestAccessWire
import Synchronization

/// The calls of one connection whose HEADERS arrived and whose request
/// message has not, with their header bytes counted in the server's budget.
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
  private let memory: MemoryBudget

  init(memory: MemoryBudget) {
    self.memory = memory
  }

  var count: Int { calls.count }
  var isEmpty: Bool { calls.isEmpty }
  var ids: [UInt32] { calls.keys.sorted() }
  /// When the oldest pending call's HEADERS arrived.
  var oldest: UInt64? { calls.values.lazy.map(\.since).min() }

  mutating func add(_ callID: UInt32, _ call: Call) {
    calls[callID] = call
    headerBytes += call.headerBytes
    memory.add(call.headerBytes)
  }

  @discardableResult
  mutating func remove(_ callID: UInt32) -> Call? {
    guard let call = calls.removeValue(forKey: callID) else { return nil }
    headerBytes -= call.headerBytes
    memory.add(-call.headerBytes)
    return call
  }

  mutating func removeAll() {
    guard !calls.isEmpty else { return }
    memory.add(-headerBytes)
    headerBytes = 0
    calls = [:]
  }

  /// Pending calls whose HEADERS arrived before `time`.
  func ids(since time: UInt64) -> [UInt32] {
    calls.filter { $0.value.since < time }.keys.sorted()
  }

  mutating func restartClocks(_ now: UInt64) {
    for callID in calls.keys { calls[callID]?.since = now }
  }
}

/// Which new calls a connection takes now, and which wait unread: the
/// limits on every client before and after it authenticates.
extension ServerConnection {
  /// Whether the call `frame` (a HEADERS) opens must wait before it is
  /// read: the server's memory budget is spent, the client has not taken
  /// its queued responses, too many header bytes wait for their request
  /// message, or too many calls run on a connection that has not
  /// authenticated. A call that will be refused at once never waits.
  func mustWait(_ frame: Frame) -> Bool {
    if let last = goAwayLastCallID, frame.header.callID > last { return false }
    if frame.payload.count > configuration.maxHeaderSize { return false }
    let queued = channel.pendingBytes
    // Over the budget, a connection that holds buffered bytes takes no new
    // call; one that holds none (a client that reads) is still served.
    if memory.isExhausted && (queued > 0 || !pending.isEmpty) { return true }
    if queued >= configuration.maxQueuedResponseBytes { return true }
    if activeCallCount >= configuration.maxRunningCallsPerConnection { return true }
    // Over its address's limit a connection that already runs a call waits;
    // one that runs none may start one, so no connection of a busy address
    // starves behind the others (their number is bounded per address too).
    // Held connections retry when one of their calls ends and on every tick.
    if activeCallCount > 0 && peerCalls.count >= configuration.maxRunningCallsPerPeer { return true }
    if !pending.isEmpty && pending.headerBytes + frame.payload.count > configuration.maxPendingHeaderBytes { return true }
    if let limit = configuration.maxCallsBeforeAuthentication, !authenticated.load(ordering: .relaxed),
      pending.count + activeCallCount >= limit
    {
      return true
    }
    return false
  }

  /// Takes the requests that waited, if the reason they waited is gone. Loop thread.
  func retryHeld() {
    guard channel.isReadHeld, !channel.isClosed, lingeringSince == nil else { return }
    channel.holdReading(false)
    budget = Self.framesPerTurn
    _ = handleDeferred()
    scheduleTurn()
    checkDrained()
  }

  /// A call on this connection passed authentication: the limits before
  /// authentication no longer apply to it. Any thread.
  func markAuthenticated() {
    guard !authenticated.exchange(true, ordering: .relaxed) else { return }
    channel.loop.executeUnchecked { [self] in retryHeld() }
  }

  /// Closes the connection when the server's budget is spent and this
  /// client's queued responses are over its bound: it is the client over the
  /// budget. Any thread.
  func closeIfOverBudget() {
    guard memory.isExhausted, channel.pendingBytes > configuration.maxQueuedResponseBytes else { return }
    channel.loop.executeUnchecked { [self] in
      guard memory.isExhausted, channel.pendingBytes > configuration.maxQueuedResponseBytes else { return }
      logger.notice("closing a connection over the memory budget", metadata: ["peer": "\(peer)", "queued": "\(channel.pendingBytes)"])
      close(reason: "over the memory budget")
    }
  }

  /// Closes the connection when its client has taken none of the queued
  /// output for `sendTimeout`. Loop thread (tick).
  func checkSendProgress(now: UInt64) -> Bool {
    let sent = channel.bytesSent
    if channel.pendingBytes == 0 || sent != outputSentMark {
      outputSentMark = sent
      outputProgressAt = now
      return true
    }
    guard now - outputProgressAt > configuration.sendTimeout.nanoseconds else { return true }
    logger.debug("closing a connection that does not read", metadata: ["peer": "\(peer)", "queued": "\(channel.pendingBytes)"])
    close(reason: "send timeout")
    return false
  }
}
