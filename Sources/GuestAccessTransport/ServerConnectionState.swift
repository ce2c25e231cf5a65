import GuestAccessCore
import GuestAccessProto
import GuestAccessWire

/// Everything a server connection decides, as a pure value: no sockets, no
/// locks, no clock of its own (every event brings the time). `ServerConnection`
/// keeps it under its one lock, feeds it what arrived and what happened, and
/// performs what each transition returns (write a GOAWAY, refuse a call,
/// start one, cancel the running ones, close).
///
/// ```
/// handshake --preface--> open --drain / idle--> draining --drained--> closing --peer EOF / linger--> closed
///     |                    |                       (GOAWAY sent: calls up to its
///     +--drain-------------+----------------------> last_call_id finish, later ones are refused)
///     any state --violation / timeout--> closing (GOAWAY with the reason);  any state --peer gone--> closed
/// ```
///
/// `Call` is what the connection keeps per running call (its responder);
/// tests use any value.
struct ServerConnectionState<Call> {
  enum Phase: Equatable {
    /// Waiting for the client's preface (and no GOAWAY sent).
    case handshake
    /// Taking calls.
    case open
    /// GOAWAY sent: calls up to `lastCallID` are served, later ones refused;
    /// closes once they have finished.
    case draining(lastCallID: UInt32)
    /// Half-closed since the given time: every call cancelled, input
    /// discarded until the peer's end of stream or the linger timeout.
    case closing(since: UInt64)
    /// The socket is closed.
    case closed
  }

  /// What a HEADERS frame turned out to carry (decoding is the shell's).
  enum CallHeadersInput {
    /// Decoded; the deadline is counted from now.
    case decoded(CallHeaders, deadline: ContinuousClock.Instant?)
    /// Over `maxHeaderSize` (of this many bytes); not decoded.
    case oversized(Int)
    /// Well-formed but not representable (a NUL in a string): the call fails, the connection stays.
    case unrepresentable(String)
    /// Not decodable: a protocol violation.
    case malformed
  }

  /// What to do with a HEADERS frame.
  enum HeadersAction {
    /// The call waits for its request message (its header bytes now count in the budget).
    case pend(headerBytes: Int)
    /// Answer the call with this error at once.
    case refuse(RPCError)
  }

  /// What to do with a MESSAGE frame.
  enum MessageAction {
    /// Nothing (the call is no longer pending: refused or cancelled before).
    case ignore
    /// Answer the call with this error; its pending header bytes are freed.
    case refuse(RPCError, freedBytes: Int)
    /// The call was started (its `Call`, also in the table); dispatch it.
    case start(PendingCalls.Call, Call)
  }

  /// The calls and header bytes a transition took out of the connection.
  struct Released {
    /// Running calls to cancel (no trailers: the peer is gone or the connection is closing).
    var calls: [Call] = []
    /// Pending header bytes to give back to the budget.
    var freedBytes = 0
  }

  /// What a tick found expired, in the order the connection checks them.
  enum Expiry: Equatable {
    /// Closing and the peer never closed its side within the linger timeout: close.
    case linger
    /// No preface within the handshake timeout.
    case handshake
    /// A frame started and not finished within the frame timeout.
    case frame
    /// A call's request message did not follow its HEADERS within the frame timeout.
    case requestMessage
    /// Draining: these pending calls' request messages never came; they are not processed.
    case stalePending([UInt32], freedBytes: Int)
  }

  /// What the keepalive and idle clocks ask for on a tick.
  struct Keepalive: Equatable {
    /// The PING sent was not answered within the keepalive timeout: close.
    var closeUnanswered = false
    /// Send a PING (nothing arrived for the keepalive interval).
    var ping = false
    /// Idle for the idle timeout: drain (GOAWAY "idle timeout").
    var idleGoAway = false
  }

  /// What the state needs of the facts outside it to admit a new call.
  struct AdmissionInput {
    /// Bytes of output the socket has not taken.
    var queuedOutput: Int
    /// Whether the server's memory budget is spent.
    var memoryExhausted: Bool
    /// Calls running for this connection's client address, over all its connections.
    var peerRunning: Int
    /// Whether a call on this connection passed authentication.
    var authenticated: Bool
  }

  let configuration: TCPServerConfiguration
  private(set) var phase = Phase.handshake
  private(set) var prefaceReceived = false
  /// The highest call id opened.
  private(set) var lastCallID: UInt32 = 0
  /// Calls whose HEADERS arrived but not their request message.
  private(set) var pending = PendingCalls()
  /// Calls running (their handler started, their trailers not sent).
  private(set) var running: [UInt32: Call] = [:]
  // Clocks (monotonic ns).
  let openedAt: UInt64
  private(set) var lastReadAt: UInt64
  private(set) var lastActiveAt: UInt64
  private(set) var midFrameSince: UInt64?
  private(set) var pingSentAt: UInt64?

  init(configuration: TCPServerConfiguration, now: UInt64) {
    self.configuration = configuration
    openedAt = now
    lastReadAt = now
    lastActiveAt = now
  }

  /// The `last_call_id` of the GOAWAY sent, while draining.
  var goAwayLastCallID: UInt32? {
    if case .draining(let last) = phase { return last }
    return nil
  }

  /// Whether a GOAWAY went out (draining or closing after one).
  var isClosingOrClosed: Bool {
    switch phase {
    case .closing, .closed: true
    default: false
    }
  }

  /// Whether the connection is half-closed, waiting for the peer's end of stream.
  var isLingering: Bool {
    if case .closing = phase { return true }
    return false
  }

  // MARK: Input

  /// The client's preface arrived and was valid.
  mutating func prefaceArrived() {
    prefaceReceived = true
    if phase == .handshake { phase = .open }
  }

  /// Bytes arrived at `now`; after them the parser is in the middle of a frame or not.
  mutating func received(at now: UInt64, midFrame: Bool) {
    lastReadAt = now
    pingSentAt = nil
    midFrameSince = midFrame ? (midFrameSince ?? now) : nil
  }

  /// A HEADERS frame for `callID` (of `payloadSize` bytes) arrived at `now`.
  mutating func headersArrived(
    _ callID: UInt32, payloadSize: Int, _ input: CallHeadersInput, now: UInt64
  ) throws(ProtocolViolation) -> HeadersAction {
    guard callID != 0 else { throw ProtocolViolation("HEADERS on call 0") }
    guard callID > lastCallID else { throw ProtocolViolation("call id \(callID) is not above \(lastCallID)") }
    lastCallID = callID
    lastActiveAt = now
    let headers: CallHeaders
    let deadline: ContinuousClock.Instant?
    switch input {
    case .oversized(let size):
      return .refuse(RPCError(code: .resourceExhausted, message: "call headers of \(size) bytes exceed the limit of \(configuration.maxHeaderSize)"))
    case .unrepresentable(let reason):
      return .refuse(RPCError(code: .invalidArgument, message: "call headers: \(reason)"))
    case .malformed:
      throw ProtocolViolation("undecodable call headers")
    case .decoded(let decoded, let callDeadline):
      headers = decoded
      deadline = callDeadline
    }
    // After GOAWAY only the calls it covers are served (those it does not
    // are refused); before it, a call is taken even when the server has
    // begun to drain: the GOAWAY about to be sent covers it.
    if let last = goAwayLastCallID, callID > last {
      return .refuse(RPCError.callNotProcessed("server is shutting down"))
    }
    if pending.count + running.count >= configuration.maxConcurrentCallsPerConnection {
      return .refuse(RPCError(
        code: .resourceExhausted,
        message: "more than \(configuration.maxConcurrentCallsPerConnection) concurrent calls on one connection"))
    }
    pending.add(callID, PendingCalls.Call(headers: headers, deadline: deadline, since: now, headerBytes: payloadSize))
    return .pend(headerBytes: payloadSize)
  }

  /// A MESSAGE frame for `callID` arrived: a call's request. `start` makes
  /// the running call's entry when the call starts.
  mutating func messageArrived(
    _ callID: UInt32, size: Int, endStream: Bool, start: (UInt32) -> Call
  ) throws(ProtocolViolation) -> MessageAction {
    guard callID != 0 else { throw ProtocolViolation("MESSAGE on call 0") }
    guard callID <= lastCallID else { throw ProtocolViolation("MESSAGE for call \(callID) that was never opened") }
    guard let opened = pending.remove(callID) else { return .ignore }
    guard size <= configuration.maxReceiveMessageSize else {
      return .refuse(Self.tooLarge(size, configuration.maxReceiveMessageSize), freedBytes: opened.headerBytes)
    }
    guard endStream else {
      return .refuse(
        RPCError(code: .unimplemented, message: "client streaming is not supported: the request message must carry END_STREAM"),
        freedBytes: opened.headerBytes)
    }
    let call = start(callID)
    running[callID] = call
    return .start(opened, call)
  }

  /// A MESSAGE frame over the size limit (skipped as it streamed in) for `callID`.
  mutating func oversizedMessageArrived(_ callID: UInt32, size: Int) throws(ProtocolViolation) -> MessageAction {
    guard callID != 0, callID <= lastCallID else { throw ProtocolViolation("MESSAGE for a call that was never opened") }
    guard let opened = pending.remove(callID) else { return .ignore }
    return .refuse(Self.tooLarge(size, configuration.maxReceiveMessageSize), freedBytes: opened.headerBytes)
  }

  /// The peer cancelled `callID`: it is no longer pending nor running.
  mutating func cancelArrived(_ callID: UInt32) throws(ProtocolViolation) -> Released {
    guard callID != 0 else { throw ProtocolViolation("CANCEL on call 0") }
    var released = Released()
    if let opened = pending.remove(callID) { released.freedBytes = opened.headerBytes }
    if let call = running.removeValue(forKey: callID) { released.calls.append(call) }
    return released
  }

  /// A running call finished (its trailers are written); returns whether it
  /// was still in the table and whether the drain waits for no other running call.
  mutating func callEnded(_ callID: UInt32) -> (ended: Bool, drainedOfRunning: Bool) {
    let ended = running.removeValue(forKey: callID) != nil
    return (ended, goAwayLastCallID != nil && running.isEmpty)
  }

  /// Reading resumed after a pause at `now`: the time spent paused was the
  /// server's doing, so the frame clocks restart.
  mutating func readingResumed(at now: UInt64) {
    if midFrameSince != nil { midFrameSince = now }
    pending.restartClocks(now)
  }

  // MARK: Admission

  /// Whether a new call (a HEADERS of `headerBytes` for `callID`) must wait
  /// unread: the server's memory budget is spent, the client has not taken
  /// its queued responses, too many calls run, too many header bytes wait for
  /// their request message, or too many calls run on a connection that has
  /// not authenticated. A call that will be refused at once never waits.
  func mustWait(_ callID: UInt32, headerBytes: Int, _ input: AdmissionInput) -> Bool {
    if let last = goAwayLastCallID, callID > last { return false }
    if headerBytes > configuration.maxHeaderSize { return false }
    // Over the budget, a connection that holds buffered bytes takes no new
    // call; one that holds none (a client that reads) is still served.
    if input.memoryExhausted && (input.queuedOutput > 0 || !pending.isEmpty) { return true }
    if input.queuedOutput >= configuration.maxQueuedResponseBytes { return true }
    if running.count >= configuration.maxRunningCallsPerConnection { return true }
    // Over its address's limit a connection that already runs a call waits;
    // one that runs none may start one, so no connection of a busy address
    // starves behind the others (their number is bounded per address too).
    if !running.isEmpty && input.peerRunning >= configuration.maxRunningCallsPerPeer { return true }
    if !pending.isEmpty && pending.headerBytes + headerBytes > configuration.maxPendingHeaderBytes { return true }
    if let limit = configuration.maxCallsBeforeAuthentication, !input.authenticated, pending.count + running.count >= limit {
      return true
    }
    return false
  }

  // MARK: Drain and close

  /// Drain: returns the `last_call_id` for the GOAWAY to send, covering every
  /// call whose HEADERS was read (`deferredLastCallID`: the highest among
  /// HEADERS parsed but not handled yet), or nil when a GOAWAY went out already.
  mutating func drain(deferredLastCallID: UInt32) -> UInt32? {
    switch phase {
    case .handshake, .open:
      let last = max(lastCallID, deferredLastCallID)
      phase = .draining(lastCallID: last)
      return last
    case .draining, .closing, .closed:
      return nil
    }
  }

  /// A connection over the server's limit: a GOAWAY with `last_call_id` 0 goes out.
  mutating func refuseConnection() {
    if case .handshake = phase { phase = .draining(lastCallID: 0) }
  }

  /// Whether a draining connection has nothing left to serve: no call runs,
  /// none is pending and no parsed frame waits (`hasDeferred`).
  func isDrained(hasDeferred: Bool) -> Bool {
    goAwayLastCallID != nil && running.isEmpty && pending.isEmpty && !hasDeferred
  }

  /// Half-closes at `now` (after a drain, a violation, a timeout): every
  /// running call is cancelled, pending ones dropped. Nil when already closing or closed.
  mutating func startClosing(at now: UInt64) -> Released? {
    guard !isClosingOrClosed else { return nil }
    phase = .closing(since: now)
    return releaseAll()
  }

  /// The socket closed (peer gone, error, server stopped). Nil when it was already.
  mutating func closed() -> Released? {
    if phase == .closed { return nil }
    phase = .closed
    return releaseAll()
  }

  private mutating func releaseAll() -> Released {
    let calls = Array(running.values)
    running.removeAll()
    return Released(calls: calls, freedBytes: pending.removeAll())
  }

  // MARK: Timeouts

  /// The first timeout expired at `now` (nil: none). `readPaused`: the
  /// connection stopped reading (its output is not taken), so the frame
  /// clocks do not run against the client.
  mutating func expired(at now: UInt64, readPaused: Bool) -> Expiry? {
    switch phase {
    case .closed: return nil
    case .closing(let since): return now - since > ServerConnection.lingerTimeout.nanoseconds ? .linger : nil
    case .handshake, .open, .draining: break
    }
    if !prefaceReceived && now - openedAt > configuration.handshakeTimeout.nanoseconds { return .handshake }
    guard !readPaused else { return nil }
    let frameTimeout = configuration.frameTimeout.nanoseconds
    if let since = midFrameSince, now - since > frameTimeout { return .frame }
    if let oldest = pending.oldest, now - oldest > frameTimeout {
      guard goAwayLastCallID != nil else { return .requestMessage }
      // Draining: the calls whose request never came are not processed.
      var freed = 0
      let stale = pending.ids(since: now - frameTimeout)
      for callID in stale { freed += pending.remove(callID)?.headerBytes ?? 0 }
      return .stalePending(stale, freedBytes: freed)
    }
    return nil
  }

  /// The keepalive and idle clocks at `now`; `hasDeferred`: parsed frames wait to be handled.
  mutating func keepalive(at now: UInt64, hasDeferred: Bool) -> Keepalive {
    var result = Keepalive()
    guard !isClosingOrClosed else { return result }
    if let sent = pingSentAt, now - sent > configuration.keepaliveTimeout.nanoseconds {
      result.closeUnanswered = true
      return result
    }
    if prefaceReceived && pingSentAt == nil && now - lastReadAt > configuration.keepaliveInterval.nanoseconds {
      pingSentAt = now
      result.ping = true
    }
    if !running.isEmpty || !pending.isEmpty || hasDeferred {
      lastActiveAt = now
    } else if goAwayLastCallID == nil && now - lastActiveAt > configuration.idleTimeout.nanoseconds {
      result.idleGoAway = true
    }
    return result
  }

  static func tooLarge(_ size: Int, _ limit: Int) -> RPCError {
    RPCError(code: .resourceExhausted, message: "request message of \(size) bytes exceeds the limit of \(limit)")
  }
}
