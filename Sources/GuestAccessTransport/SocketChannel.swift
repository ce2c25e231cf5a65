import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessProto
import GuestAccessTLS
import GuestAccessWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The socket of one connection: serialized writes from any thread (a lock
/// around a buffer, written directly while the socket accepts data and by the
/// loop on writability otherwise), the epoll interest, and the close.
///
/// Output written on the loop thread (handlers that prefer the loop, PING
/// answers, refusals) is sent at the end of the loop's turn, together with
/// everything else written in it: many responses, one `send`. Output written
/// from another thread is sent at once.
///
/// Back-pressure: above `highWater` unsent bytes, streaming writers wait
/// (`waitForSpace`); above `readPauseWater`, the connection stops reading, so
/// a peer that sends requests but never reads responses cannot make the
/// server buffer without bound. A server connection can also hold reading
/// for reasons of its own (`holdReading`), and count its queued bytes in a
/// shared `MemoryBudget`.
///
/// With a `TLSSession` the same buffer holds plaintext and the session
/// encrypts it on the way out; every use of the session (handshake, reads on
/// the loop thread, writes from any thread) happens under the channel's lock,
/// so one `SSL` is never used by two threads at once. Output waits in the
/// buffer until the handshake is done.
final class SocketChannel: @unchecked Sendable {
  private struct State {
    var buffer: [UInt8] = []
    var start = 0
    var waitingWritable = false
    /// Output written on the loop thread waits for the end of the loop's turn (`EventLoop.sendLater`).
    var sendScheduled = false
    var readPaused = false
    var readHeld = false
    /// Bytes of `buffer` counted in the budget.
    var accounted = 0
    /// Bytes sent since the channel opened.
    var sent: UInt64 = 0
    var outputShut = false
    var closed = false
    /// The socket's registration with `loop`, once registered.
    var registration: EventLoopRegistration?
    /// Whether bytes may be sent (always without TLS; after the handshake with it).
    var established = true
    /// Whether the first bytes were checked for a plaintext client (TLS servers).
    var plaintextChecked = false
    /// Why the TLS session failed, once it has.
    var tlsFailure: String?
    /// The peer's verified certificate (TLS with client certificates).
    var peerCertificate: PeerCertificate?
    var spaceWaiters: [CheckedContinuation<Void, any Error>] = []
  }

  let fd: Int32
  let loop: EventLoop
  /// Where the write buffer's bytes are counted, if anywhere.
  let budget: MemoryBudget?
  /// The TLS session, when the connection is encrypted; used only under `state`'s lock.
  private let tls: TLSSession?
  private let state: LockedValue<State>
  /// `closed`, `outputShut`, `readPaused` and `readHeld` of `state`, and its
  /// unsent byte count, as of the last change: stored under the lock by
  /// every change (`withState`), loaded without it by the checks the loop
  /// makes for every frame. A load sees a value the state had, which is all
  /// a read under the lock gives once the lock is released.
  private let flags = Atomic<UInt8>(0)
  private let unsent = Atomic<Int>(0)
  private static let closedFlag: UInt8 = 1
  private static let outputShutFlag: UInt8 = 2
  private static let readPausedFlag: UInt8 = 4
  private static let readHeldFlag: UInt8 = 8
  /// Above this many unsent bytes, streaming writers wait.
  static let highWater = 1 << 20
  /// Above this many unsent bytes, the connection stops reading requests.
  static let readPauseWater = 8 << 20
  /// Write-buffer capacity kept once everything is sent; a larger buffer is freed.
  static let retainedCapacity = 16 << 10

  /// Run on the loop when reading resumes after a pause (set once, before use).
  var onReadResumed: (() -> Void)?
  /// Run on the loop once the TLS handshake is done (set before it can finish).
  var onEstablished: (() -> Void)?

  init(fd: Int32, loop: EventLoop, tls: TLSSession? = nil, budget: MemoryBudget? = nil) {
    self.fd = fd
    self.loop = loop
    self.tls = tls
    self.budget = budget
    var initial = State()
    initial.established = tls == nil
    state = LockedValue(initial)
  }

  /// Whether the connection is encrypted.
  var isTLS: Bool { tls != nil }

  /// Why the TLS session failed, if it did.
  var tlsFailure: String? { state.withLock { $0.tlsFailure } }

  /// Whether bytes can be sent: always without TLS, after the handshake with it.
  var isEstablished: Bool { state.withLock { $0.established } }

  /// The certificate the peer presented and the server verified, if any.
  var peerCertificate: PeerCertificate? { state.withLock { $0.peerCertificate } }

  /// Whether decrypted input waits inside the TLS session, where epoll does
  /// not see it: the reader must come back for it. Loop thread only.
  var hasBufferedInput: Bool {
    loop.assertInEventLoop()
    guard let tls else { return false }
    return state.withLock { !$0.closed && $0.established && tls.hasBufferedInput }
  }

  /// Advances the TLS handshake (true once established; without TLS at
  /// once); sends the output that waited for it. Loop thread only.
  func handshake() -> TLSSession.Outcome {
    loop.assertInEventLoop()
    return withState { handshake(&$0) }
  }

  private func handshake(_ state: inout State) -> TLSSession.Outcome {
    guard let tls, !state.established else { return .done(0) }
    guard !state.closed else { return .failed("connection closed") }
    let outcome = tls.handshake()
    switch outcome {
    case .done:
      state.established = true
      state.peerCertificate = tls.peerIdentity().map { PeerCertificate(subject: $0.subject, uris: $0.uris) }
      flush(&state)
      settle(&state)
      if let onEstablished { loop.executeUnchecked(onEstablished) }
    case .wantWrite:
      waitForWritable(&state)
    case .wantRead:
      // Output waits for the handshake, so nothing else needs writability now.
      if state.waitingWritable {
        state.waitingWritable = false
        setInterest(Self.interest(state), &state)
      }
    case .failed(let reason):
      state.tlsFailure = reason
      if tls.isServer {
        // OpenSSL has queued its alert: let the client read it rather than
        // lose it to a reset (closing with unread input resets the connection).
        _ = ga_shutdown_write(fd)
        discardInput()
      }
    case .closed:
      state.tlsFailure = "closed"
    }
    return outcome
  }

  /// Reads and drops whatever input is waiting.
  private func discardInput() {
    var sink = [UInt8](repeating: 0, count: 4096)
    while ga_recv(fd, &sink, sink.count) > 0 {}
  }

  private func waitForWritable(_ state: inout State) {
    guard !state.waitingWritable else { return }
    state.waitingWritable = true
    setInterest(Self.interest(state), &state)
  }

  /// Sends from `bytes`: bytes sent, -1 for "try when writable", -2 for an
  /// error (with the TLS session's reason, if it failed).
  private func send(_ bytes: UnsafeRawPointer, _ count: Int) -> (sent: Int, failure: String?) {
    guard let tls else {
      let sent = ga_send(fd, bytes, count)
      if sent > 0 { return (sent, nil) }
      let error = ga_errno()
      return (sent < 0 && (error == EAGAIN || error == EWOULDBLOCK) ? -1 : -2, nil)
    }
    switch tls.write(bytes, count: count) {
    case .done(let sent): return (sent, nil)
    case .wantWrite, .wantRead: return (-1, nil)
    case .failed(let reason): return (-2, reason)
    case .closed: return (-2, nil)
    }
  }

  /// The epoll interest for the current state. While reading is paused only
  /// the peer's end of stream (RDHUP) is watched on the read side: it ends
  /// the connection, so it cannot make the level-triggered loop spin.
  private static func interest(_ state: State) -> UInt32 {
    (state.readPaused || state.readHeld ? 0 : ga_epollin) | ga_epollrdhup | (state.waitingWritable ? ga_epollout : 0)
  }

  /// Runs `body` under the lock, then stores the mirrors of what it changed:
  /// every change of `state` goes through here (a read that changes nothing
  /// takes `state.withLock` and publishes nothing).
  @inline(__always)
  private func withState<Result: Sendable, E: Error>(_ body: (inout State) throws(E) -> Result) throws(E) -> Result {
    try state.withLock { (state: inout State) throws(E) -> Result in
      defer { publish(state) }
      return try body(&state)
    }
  }

  @inline(__always)
  private func publish(_ state: State) {
    var bits: UInt8 = 0
    if state.closed { bits |= Self.closedFlag }
    if state.outputShut { bits |= Self.outputShutFlag }
    if state.readPaused { bits |= Self.readPausedFlag }
    if state.readHeld { bits |= Self.readHeldFlag }
    flags.store(bits, ordering: .releasing)
    unsent.store(state.buffer.count - state.start, ordering: .releasing)
  }

  @inline(__always)
  private func has(_ flag: UInt8) -> Bool {
    flags.load(ordering: .acquiring) & flag != 0
  }

  /// The initial epoll interest.
  var initialInterest: UInt32 { ga_epollin | ga_epollrdhup }

  /// Registers the socket with its loop for `handler` (replacing an earlier
  /// registration, whose events no longer arrive); false when epoll refuses
  /// it. Loop thread only.
  func register(events: UInt32, handler: EventLoopHandler) -> Bool {
    loop.assertInEventLoop()
    return withState { state -> Bool in
      guard !state.closed else { return false }
      if let old = state.registration { loop.deregister(old) }
      state.registration = loop.register(fd: fd, events: events, handler: handler)
      return state.registration != nil
    }
  }

  /// Sets the epoll interest directly (the connect handshake's). Any thread.
  func setInterest(_ events: UInt32) {
    withState { setInterest(events, &$0) }
  }

  private func setInterest(_ events: UInt32, _ state: inout State) {
    guard let registration = state.registration else { return }
    loop.modify(registration, events: events)
  }

  /// Whether the socket was closed.
  var isClosed: Bool { has(Self.closedFlag) }

  /// Whether input is still taken: the socket is open and its output not
  /// shut down (a half-closed server connection discards what arrives).
  var acceptsInput: Bool { flags.load(ordering: .acquiring) & (Self.closedFlag | Self.outputShutFlag) == 0 }

  /// Unsent bytes.
  var pendingBytes: Int { unsent.load(ordering: .acquiring) }

  /// Whether reading is paused because too much output is unsent.
  var isReadPaused: Bool { has(Self.readPausedFlag) }

  /// Whether reading is held by `holdReading`.
  var isReadHeld: Bool { has(Self.readHeldFlag) }

  /// Bytes sent since the channel opened.
  var bytesSent: UInt64 { state.withLock { $0.sent } }

  /// Stops (or resumes) watching the socket for requests, whatever the
  /// output; the peer's end of stream is still seen. Loop thread.
  func holdReading(_ hold: Bool) {
    loop.assertInEventLoop()
    withState { state in
      guard state.readHeld != hold, !state.closed else { return }
      state.readHeld = hold
      setInterest(Self.interest(state), &state)
    }
  }

  /// Counts the buffer's size change in the budget.
  private func settle(_ state: inout State) {
    guard let budget else { return }
    budget.add(state.buffer.count - state.accounted)
    state.accounted = state.buffer.count
  }

  /// Appends frames with `build` and sends what the socket takes now.
  /// Returns false when the socket is closed or its output shut (nothing is written).
  @discardableResult
  func write(_ build: (inout [UInt8]) -> Void) -> Bool {
    withState { state -> Bool in
      guard !state.closed, !state.outputShut else { return false }
      build(&state.buffer)
      if state.waitingWritable {
        pauseReadingIfNeeded(&state)
      } else if loop.inEventLoop {
        if !state.sendScheduled {
          state.sendScheduled = true
          loop.sendLater(self)
        }
      } else {
        flush(&state)
      }
      settle(&state)
      return !state.closed
    }
  }

  /// Sends the output written on the loop thread in this turn. Loop thread
  /// (the loop calls it at the end of each turn; a drain calls it before it
  /// looks at what is unsent).
  func sendDeferred() {
    loop.assertInEventLoop()
    withState { state in
      state.sendScheduled = false
      guard !state.closed, !state.outputShut, !state.waitingWritable, state.start < state.buffer.count else { return }
      flush(&state)
      settle(&state)
    }
  }

  private func pauseReadingIfNeeded(_ state: inout State) {
    if state.buffer.count - state.start > Self.readPauseWater && !state.readPaused {
      state.readPaused = true
      setInterest(Self.interest(state), &state)
    }
  }

  private func flush(_ state: inout State) {
    guard state.established else {
      // TLS handshake in progress: output waits for it.
      pauseReadingIfNeeded(&state)
      return
    }
    while state.start < state.buffer.count {
      let start = state.start
      let (sent, failure) = state.buffer.withUnsafeBytes { raw in
        send(raw.baseAddress! + start, raw.count - start)
      }
      if let failure { state.tlsFailure = failure }
      if sent > 0 {
        state.start += sent
        state.sent += UInt64(sent)
        continue
      }
      if sent == -1 {
        // Drop what the socket took once it is most of the buffer: a turn's
        // output goes out in one send, and its sent part is not held (nor
        // counted) while the rest waits; moving the rest costs at most what
        // was sent, so a slow reader's queue is not copied on every send.
        if state.start > 0 && state.start * 2 >= state.buffer.count {
          state.buffer.removeSubrange(0..<state.start)
          state.start = 0
        }
        waitForWritable(&state)
        pauseReadingIfNeeded(&state)
        return
      }
      // The peer is gone (EPIPE, ECONNRESET...): drop what is unsent. The
      // loop sees the error on the socket and closes the connection.
      state.buffer = []
      state.start = 0
      failWaiters(&state)
      return
    }
    state.buffer.removeAll(keepingCapacity: state.buffer.capacity <= Self.retainedCapacity)
    state.start = 0
    if state.waitingWritable {
      state.waitingWritable = false
      let resumed = state.readPaused
      state.readPaused = false
      setInterest(Self.interest(state), &state)
      if resumed, let onReadResumed { loop.executeUnchecked(onReadResumed) }
    }
    let waiters = state.spaceWaiters
    state.spaceWaiters.removeAll()
    for waiter in waiters { waiter.resume() }
  }

  private func failWaiters(_ state: inout State) {
    let waiters = state.spaceWaiters
    state.spaceWaiters.removeAll()
    for waiter in waiters { waiter.resume(throwing: CancellationError()) }
  }

  /// Called by the loop when the socket became writable.
  func handleWritable() {
    loop.assertInEventLoop()
    withState { state in
      guard !state.closed else { return }
      if state.established { flush(&state) } else { _ = handshake(&state) }
      settle(&state)
    }
  }

  /// Suspends while more than `highWater` bytes wait to be sent.
  func waitForSpace() async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      withState { state in
        if state.closed || state.outputShut {
          continuation.resume(throwing: CancellationError())
        } else if state.buffer.count - state.start <= Self.highWater {
          continuation.resume()
        } else {
          state.spaceWaiters.append(continuation)
        }
      }
    }
  }

  /// Receives into `buffer`; returns bytes read, 0 at end of stream, -1 for
  /// "try later", -2 for an error. Loop thread only.
  func receive(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
    loop.assertInEventLoop()
    guard let tls else {
      let received = ga_recv(fd, buffer.baseAddress, buffer.count)
      if received >= 0 { return received }
      let error = ga_errno()
      return error == EAGAIN || error == EWOULDBLOCK ? -1 : -2
    }
    return withState { state -> Int in
      guard !state.closed else { return -2 }
      if !state.plaintextChecked && isTLSServer {
        switch refusePlaintextClient(&state) {
        case nil: state.plaintextChecked = true
        case let result?: return result
        }
      }
      if !state.established {
        switch handshake(&state) {
        case .done: break
        case .wantRead, .wantWrite: return -1
        case .failed, .closed: return -2
        }
      }
      // Fill the buffer record by record, as a socket read would.
      var total = 0
      while total < buffer.count {
        switch tls.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...])) {
        case .done(let count):
          total += count
          continue
        case .wantRead:
          break
        case .wantWrite:
          waitForWritable(&state)
        case .closed:
          return total
        case .failed(let reason):
          state.tlsFailure = reason
          return total > 0 ? total : -2
        }
        break
      }
      return total > 0 ? total : -1
    }
  }

  /// Whether this end accepts TLS connections (refusing plaintext clients).
  var isTLSServer: Bool { tls?.isServer == true }

  /// A plaintext GuestAccess client on a TLS port (its first byte is the
  /// preface's `G`, where TLS starts with a handshake record, 0x16) gets a
  /// plaintext preface and a GOAWAY saying TLS is required (what it sent is
  /// read and dropped first, so closing does not reset the answer away).
  /// Returns nil for anything else (then TLS goes on), -1 to wait for a
  /// byte, -2 once refused.
  private func refusePlaintextClient(_ state: inout State) -> Int? {
    var first: UInt8 = 0
    let peeked = recv(fd, &first, 1, Int32(MSG_PEEK))
    if peeked <= 0 { return peeked < 0 && (ga_errno() == EAGAIN || ga_errno() == EWOULDBLOCK) ? -1 : nil }
    guard first == Preface.bytes[0] else { return nil }
    discardInput()
    var answer = Preface.bytes
    FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: 0, code: StatusCode.unavailable.rawValue, message: Self.tlsRequired), to: &answer)
    _ = answer.withUnsafeBytes { ga_send(fd, $0.baseAddress, $0.count) }
    _ = ga_shutdown_write(fd)
    state.tlsFailure = "plaintext client on a TLS port"
    return -2
  }

  /// What a plaintext client on a TLS port is told.
  static let tlsRequired = "this port requires TLS (ALPN \(TLSContext.alpnProtocol)): connect with TLS"

  /// Sends end of stream after the bytes already written, if they are all
  /// sent; returns false (and does nothing) when output is still buffered.
  /// Later writes are refused. Loop thread only.
  @discardableResult
  func shutdownOutput() -> Bool {
    loop.assertInEventLoop()
    return withState { state -> Bool in
      guard !state.closed else { return false }
      if state.start < state.buffer.count && !state.waitingWritable {
        flush(&state)  // what this turn wrote (a GOAWAY) goes first
      }
      guard state.start == state.buffer.count else {
        settle(&state)
        return false
      }
      state.outputShut = true
      state.buffer = []
      state.start = 0
      settle(&state)
      failWaiters(&state)
      if state.established { tls?.shutdown() }
      _ = ga_shutdown_write(fd)
      return true
    }
  }

  /// Closes the socket once; returns false if it already was. Loop thread only.
  @discardableResult
  func close() -> Bool {
    loop.assertInEventLoop()
    return withState { state -> Bool in
      guard !state.closed else { return false }
      state.closed = true
      if let registration = state.registration { loop.deregister(registration) }
      state.registration = nil
      Glibc.close(fd)
      state.buffer = []
      state.start = 0
      settle(&state)
      failWaiters(&state)
      return true
    }
  }
}
