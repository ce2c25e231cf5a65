import GuestAccessCore
import GuestAccessProto
@testable import GuestAccessTransport
import GuestAccessWire
import Testing

/// The server connection's state machine without sockets: every transition
/// and the drain rules of docs/PROTOCOL.md, with time passed in.
@Suite("Server connection state")
struct ServerConnectionStateTests {
  typealias State = ServerConnectionState<String>

  static let second: UInt64 = 1_000_000_000
  static let configuration = TCPServerConfiguration(
    maxConcurrentCallsPerConnection: 4, maxRunningCallsPerConnection: 3, maxRunningCallsPerPeer: 5,
    maxCallsBeforeAuthentication: 2, maxPendingHeaderBytes: 100, maxQueuedResponseBytes: 1000,
    maxReceiveMessageSize: 50, maxHeaderSize: 200, handshakeTimeout: .seconds(10), frameTimeout: .seconds(10),
    idleTimeout: .seconds(300), keepaliveInterval: .seconds(30), keepaliveTimeout: .seconds(10))
  static let headers = State.CallHeadersInput.decoded(CallHeaders(method: "/test.Test/Echo"), deadline: nil)
  static let admissible = State.AdmissionInput(queuedOutput: 0, memoryExhausted: false, peerRunning: 0, authenticated: true)

  /// A state past its preface at time `now`.
  static func open(now: UInt64 = 0) -> State {
    var state = State(configuration: configuration, now: now)
    state.prefaceArrived()
    return state
  }

  /// Opens `callID` (HEADERS of 10 bytes) and starts it (its MESSAGE), expecting both to be taken.
  static func run(_ callID: UInt32, in state: inout State, now: UInt64 = 0) throws {
    try pend(callID, in: &state, now: now)
    guard case .start(_, let call) = try state.messageArrived(callID, size: 5, endStream: true, start: { "call \($0)" }) else {
      Issue.record("call \(callID) not started")
      return
    }
    #expect(call == "call \(callID)")
  }

  static func pend(_ callID: UInt32, in state: inout State, now: UInt64 = 0) throws {
    guard case .pend(10) = try state.headersArrived(callID, payloadSize: 10, headers, now: now) else {
      Issue.record("call \(callID) not pending")
      return
    }
  }

  static func refusal(_ action: State.HeadersAction) -> RPCError? {
    if case .refuse(let error) = action { return error }
    return nil
  }

  @Test("handshake: the preface opens the connection; without it the handshake timeout expires")
  func handshake() {
    var state = State(configuration: Self.configuration, now: 0)
    #expect(state.phase == .handshake)
    let r1 = state.expired(at: 10 * Self.second, readPaused: false)
    #expect(r1 == nil)
    let r2 = state.expired(at: 10 * Self.second + 1, readPaused: false)
    #expect(r2 == .handshake)
    // No keepalive PING before the preface.
    let r3 = state.keepalive(at: 40 * Self.second, hasDeferred: false)
    #expect(r3.ping == false)
    state.prefaceArrived()
    #expect(state.phase == .open)
    let r4 = state.expired(at: 11 * Self.second, readPaused: false)
    #expect(r4 == nil)
  }

  @Test("HEADERS: ids must rise, oversized and unrepresentable headers refuse only the call, undecodable ones are a violation")
  func headersRules() throws {
    var state = Self.open()
    #expect(throws: ProtocolViolation.self) { try state.headersArrived(0, payloadSize: 1, Self.headers, now: 0) }
    try Self.pend(3, in: &state)
    #expect(throws: ProtocolViolation.self) { try state.headersArrived(3, payloadSize: 1, Self.headers, now: 0) }
    #expect(throws: ProtocolViolation.self) { try state.headersArrived(2, payloadSize: 1, Self.headers, now: 0) }
    let r5 = try state.headersArrived(5, payloadSize: 250, .oversized(250), now: 0)
    #expect(Self.refusal(r5)?.code == .resourceExhausted)
    let r6 = try state.headersArrived(7, payloadSize: 9, .unrepresentable("NUL"), now: 0)
    #expect(Self.refusal(r6)?.code == .invalidArgument)
    #expect(throws: ProtocolViolation.self) { try state.headersArrived(9, payloadSize: 9, .malformed, now: 0) }
    #expect(state.lastCallID == 9)
    #expect(state.pending.count == 1 && state.pending.headerBytes == 10)
  }

  @Test("MESSAGE: starts its pending call once; unknown, oversized and streaming requests are handled")
  func messageRules() throws {
    var state = Self.open()
    #expect(throws: ProtocolViolation.self) { try state.messageArrived(0, size: 1, endStream: true, start: { "\($0)" }) }
    #expect(throws: ProtocolViolation.self) { try state.messageArrived(1, size: 1, endStream: true, start: { "\($0)" }) }
    try Self.run(1, in: &state)
    #expect(state.running[1] == "call 1")
    #expect(state.pending.isEmpty)
    // A second MESSAGE for a started call is ignored.
    guard case .ignore = try state.messageArrived(1, size: 1, endStream: true, start: { "\($0)" }) else {
      Issue.record("second message taken")
      return
    }
    try Self.pend(2, in: &state)
    guard case .refuse(let tooLarge, freedBytes: 10) = try state.messageArrived(2, size: 51, endStream: true, start: { "\($0)" }) else {
      Issue.record("oversized request taken")
      return
    }
    #expect(tooLarge.code == .resourceExhausted)
    try Self.pend(3, in: &state)
    guard case .refuse(let streaming, freedBytes: 10) = try state.messageArrived(3, size: 1, endStream: false, start: { "\($0)" }) else {
      Issue.record("client streaming taken")
      return
    }
    #expect(streaming.code == .unimplemented)
    try Self.pend(4, in: &state)
    guard case .refuse(_, freedBytes: 10) = try state.oversizedMessageArrived(4, size: 1 << 20) else {
      Issue.record("oversized (skipped) request taken")
      return
    }
    #expect(state.pending.isEmpty && state.running.count == 1)
  }

  @Test("the concurrent-call limit refuses a call over it (pending and running count)")
  func concurrentLimit() throws {
    var state = Self.open()
    try Self.run(1, in: &state)
    try Self.run(2, in: &state)
    try Self.pend(3, in: &state)
    try Self.pend(4, in: &state)
    let r7 = try state.headersArrived(5, payloadSize: 10, Self.headers, now: 0)
    #expect(Self.refusal(r7)?.code == .resourceExhausted)
  }

  @Test("CANCEL drops a pending call and takes a running one out of the table; a finished call ends once")
  func cancelAndEnd() throws {
    var state = Self.open()
    #expect(throws: ProtocolViolation.self) { try state.cancelArrived(0) }
    try Self.pend(1, in: &state)
    let dropped = try state.cancelArrived(1)
    #expect(dropped.freedBytes == 10 && dropped.calls.isEmpty)
    try Self.run(2, in: &state)
    let cancelled = try state.cancelArrived(2)
    #expect(cancelled.calls == ["call 2"] && cancelled.freedBytes == 0)
    let r8 = state.callEnded(2)
    #expect(r8.ended == false)
    try Self.run(3, in: &state)
    let r9 = state.callEnded(3)
    #expect(r9 == (ended: true, drainedOfRunning: false))
    let r10 = state.callEnded(3)
    #expect(r10.ended == false)
  }

  @Test("admission: every reason a new call waits unread, and the calls that never wait")
  func admission() throws {
    var state = Self.open()
    let input = Self.admissible
    #expect(!state.mustWait(1, headerBytes: 10, input))
    // A call that will be refused at once never waits.
    #expect(!state.mustWait(1, headerBytes: 201, State.AdmissionInput(queuedOutput: 5000, memoryExhausted: true, peerRunning: 99, authenticated: false)))
    var full = input
    full.queuedOutput = 1000
    #expect(state.mustWait(1, headerBytes: 10, full))
    var budget = input
    budget.memoryExhausted = true
    #expect(!state.mustWait(1, headerBytes: 10, budget))  // holds nothing: still served
    budget.queuedOutput = 1
    #expect(state.mustWait(1, headerBytes: 10, budget))
    try Self.run(1, in: &state)
    var busyPeer = input
    busyPeer.peerRunning = 5
    #expect(state.mustWait(2, headerBytes: 10, busyPeer))
    var anonymous = input
    anonymous.authenticated = false
    #expect(!state.mustWait(2, headerBytes: 10, anonymous))
    try Self.pend(2, in: &state)
    #expect(state.mustWait(3, headerBytes: 10, anonymous))  // 2 in flight before authentication
    #expect(state.mustWait(3, headerBytes: 91, input))  // pending header bytes over 100
    try Self.run(3, in: &state)
    try Self.run(4, in: &state)
    _ = try state.messageArrived(2, size: 1, endStream: true, start: { "call \($0)" })
    #expect(state.running.count == 4)
    #expect(state.mustWait(5, headerBytes: 10, input))  // 3 running per connection at most
  }

  @Test("drain: the GOAWAY covers every HEADERS read, deferred ones included; those calls finish, later ones are refused")
  func drainServesAcceptedCalls() throws {
    var state = Self.open()
    try Self.run(1, in: &state)
    try Self.pend(2, in: &state)
    // HEADERS of call 3 parsed but not handled yet: the GOAWAY covers it.
    let r11 = state.drain(deferredLastCallID: 3)
    #expect(r11 == 3)
    #expect(state.phase == .draining(lastCallID: 3))
    let r12 = state.drain(deferredLastCallID: 9)
    #expect(r12 == nil)  // one GOAWAY
    #expect(!state.isDrained(hasDeferred: false))
    // Accepted calls go on: the pending one starts, the deferred one is taken.
    guard case .start = try state.messageArrived(2, size: 1, endStream: true, start: { "call \($0)" }) else {
      Issue.record("accepted call refused in the drain")
      return
    }
    try Self.pend(3, in: &state)
    // A call above last_call_id never waits, even when the connection is full: it is refused at once.
    #expect(!state.mustWait(4, headerBytes: 10, State.AdmissionInput(queuedOutput: 1000, memoryExhausted: true, peerRunning: 9, authenticated: false)))
    // A call above last_call_id is refused (CALL_NOT_PROCESSED), and never waits.
    let refused = Self.refusal(try state.headersArrived(4, payloadSize: 10, Self.headers, now: 0))
    #expect(refused?.isCallNotProcessed == true)
    _ = try state.messageArrived(3, size: 1, endStream: true, start: { "call \($0)" })
    let r13 = state.callEnded(1)
    #expect(r13 == (ended: true, drainedOfRunning: false))
    let r14 = state.callEnded(2)
    #expect(r14 == (ended: true, drainedOfRunning: false))
    let r15 = state.callEnded(3)
    #expect(r15 == (ended: true, drainedOfRunning: true))
    #expect(!state.isDrained(hasDeferred: true))  // a parsed frame still waits
    #expect(state.isDrained(hasDeferred: false))
  }

  @Test("drain: a server stream running at the GOAWAY (a Health.Watch) keeps the connection open until it ends")
  func drainWaitsForStreams() throws {
    var state = Self.open()
    try Self.run(1, in: &state)
    let r16 = state.drain(deferredLastCallID: 0)
    #expect(r16 == 1)
    for second in 1...100 {
      // Timeouts do not end a running call: only the call ending (the service
      // ends its Watch streams in the drain, or the drain timeout closes) does.
      let r17 = state.expired(at: UInt64(second) * Self.second, readPaused: false)
      #expect(r17 == nil)
    }
    #expect(!state.isDrained(hasDeferred: false))
    let r18 = state.callEnded(1)
    #expect(r18.drainedOfRunning)
    #expect(state.isDrained(hasDeferred: false))
  }

  @Test("drain: pending calls whose request never arrives are refused after the frame timeout, not a violation")
  func drainRefusesStalePending() throws {
    var state = Self.open()
    try Self.pend(1, in: &state, now: 0)
    try Self.pend(2, in: &state, now: 5 * Self.second)
    _ = state.drain(deferredLastCallID: 0)
    let r19 = state.expired(at: 10 * Self.second, readPaused: false)
    #expect(r19 == nil)
    let r20 = state.expired(at: 11 * Self.second, readPaused: false)
    #expect(r20 == .stalePending([1], freedBytes: 10))
    #expect(state.pending.ids == [2])
    // Before a drain the same silence is a protocol violation.
    var open = Self.open()
    try Self.pend(1, in: &open, now: 0)
    let r21 = open.expired(at: 11 * Self.second, readPaused: false)
    #expect(r21 == .requestMessage)
    // While reading is paused (the server's doing) the frame clocks do not count.
    let r22 = open.expired(at: 11 * Self.second, readPaused: true)
    #expect(r22 == nil)
    open.readingResumed(at: 11 * Self.second)
    let r23 = open.expired(at: 20 * Self.second, readPaused: false)
    #expect(r23 == nil)
  }

  @Test("a drain before the preface or after close sends no GOAWAY twice; a refused connection's GOAWAY covers nothing")
  func drainEdges() {
    var early = State(configuration: Self.configuration, now: 0)
    let r24 = early.drain(deferredLastCallID: 0)
    #expect(r24 == 0)
    #expect(early.isDrained(hasDeferred: false))
    var refused = State(configuration: Self.configuration, now: 0)
    refused.refuseConnection()
    #expect(refused.goAwayLastCallID == 0)
    let r25 = refused.drain(deferredLastCallID: 0)
    #expect(r25 == nil)
    var closed = Self.open()
    _ = closed.closed()
    let r26 = closed.drain(deferredLastCallID: 0)
    #expect(r26 == nil)
  }

  @Test("closing: every running call is released once, pending bytes freed; then only the linger timeout counts")
  func closing() throws {
    var state = Self.open()
    try Self.run(1, in: &state)
    try Self.pend(2, in: &state)
    let r27 = state.startClosing(at: 100)
    let released = try #require(r27)
    #expect(released.calls == ["call 1"] && released.freedBytes == 10)
    #expect(state.isLingering)
    let r28 = state.startClosing(at: 101)
    #expect(r28 == nil)
    let r29 = state.keepalive(at: 1000 * Self.second, hasDeferred: false)
    #expect(r29 == State.Keepalive())
    let r30 = state.expired(at: 100 + 2 * Self.second, readPaused: false)
    #expect(r30 == nil)
    let r31 = state.expired(at: 101 + 2 * Self.second, readPaused: false)
    #expect(r31 == .linger)
    let r32 = state.closed()
    #expect(try #require(r32).calls.isEmpty)
    let r33 = state.closed()
    #expect(r33 == nil)
    #expect(state.phase == .closed)
  }

  @Test("frame timeout: a frame left incomplete expires; completing it clears the clock")
  func frameTimeout() {
    var state = Self.open()
    state.received(at: 1 * Self.second, midFrame: true)
    state.received(at: 5 * Self.second, midFrame: true)  // still the same frame: the clock keeps its start
    let r34 = state.expired(at: 11 * Self.second + 1, readPaused: false)
    #expect(r34 == .frame)
    state.received(at: 11 * Self.second, midFrame: false)
    let r35 = state.expired(at: 30 * Self.second, readPaused: false)
    #expect(r35 == nil)
  }

  @Test("keepalive: a PING after silence, close when unanswered, any input answers it; idle connections drain")
  func keepaliveAndIdle() throws {
    var state = Self.open()
    let r36 = state.keepalive(at: 30 * Self.second, hasDeferred: false)
    #expect(r36 == State.Keepalive())
    let r37 = state.keepalive(at: 31 * Self.second, hasDeferred: false)
    #expect(r37 == State.Keepalive(ping: true))
    let r38 = state.keepalive(at: 35 * Self.second, hasDeferred: false)
    #expect(r38 == State.Keepalive())  // one PING
    state.received(at: 36 * Self.second, midFrame: false)
    let r39 = state.keepalive(at: 50 * Self.second, hasDeferred: false)
    #expect(r39 == State.Keepalive())
    let r40 = state.keepalive(at: 67 * Self.second, hasDeferred: false)
    #expect(r40 == State.Keepalive(ping: true))
    let r41 = state.keepalive(at: 78 * Self.second, hasDeferred: false)
    #expect(r41 == State.Keepalive(closeUnanswered: true))
    // Idle: GOAWAY after the idle timeout without calls; a running call keeps it active.
    var idle = Self.open()
    try Self.run(1, in: &idle)
    idle.received(at: 299 * Self.second, midFrame: false)
    let r42 = idle.keepalive(at: 301 * Self.second, hasDeferred: false)
    #expect(r42.idleGoAway == false)
    _ = idle.callEnded(1)
    idle.received(at: 600 * Self.second, midFrame: false)
    let r43 = idle.keepalive(at: 600 * Self.second, hasDeferred: false)
    #expect(r43.idleGoAway == false)
    let r44 = idle.keepalive(at: 602 * Self.second, hasDeferred: false)
    #expect(r44.idleGoAway == true)
    _ = idle.drain(deferredLastCallID: 0)
    let r45 = idle.keepalive(at: 1000 * Self.second, hasDeferred: false)
    #expect(r45.idleGoAway == false)
  }
}
