import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessProto
import GuestAccessTLS
import GuestAccessWire
import Logging
import Synchronization

/// One accepted TCP connection: reads and parses frames on its loop thread,
/// turns complete requests into `ServerCall`s, and writes through its
/// `SocketChannel` from whichever thread finishes a call.
///
/// A connection ends in one of two ways. `close(reason:)` closes the socket at
/// once (peer gone, server stopped). `closeGracefully()` half-closes: the
/// peer reads everything sent so far (a final GOAWAY included) and then end of
/// stream, while the server discards what still arrives until the peer closes
/// or `lingerTimeout` passes, so a peer never loses the GOAWAY to a reset.
final class ServerConnection: EventLoopHandler, @unchecked Sendable {
  let channel: SocketChannel
  let peer: String
  /// The peer's address without the port (the unit of `maxConnectionsPerPeer`).
  let peerHost: String
  /// Whether the connection counts towards `maxConnections` (refused ones do not).
  let counted: Bool
  let configuration: TCPServerConfiguration
  let dispatcher: any ServerCallDispatcher
  let logger: Logger
  let onClose: (ServerConnection) -> Void
  /// Everything the connection decides (phase, calls, clocks): its one lock.
  let state: LockedValue<ServerConnectionState<TCPServerResponder>>
  /// The server-wide budget of pending headers and queued responses.
  let memory: MemoryBudget
  /// The running calls of this connection's client address, over all its connections.
  let peerCalls: PeerCalls
  /// Whether a call on this connection passed authentication (set from any
  /// thread, an input of the admission rules).
  let authenticated = Atomic<Bool>(false)
  /// Time a half-closed connection waits for the peer's end of stream.
  static let lingerTimeout: Duration = .seconds(2)

  // Loop-thread I/O state: parsing and scheduling.
  var parser: FrameParser
  var prefaceBytes: [UInt8] = []
  /// `channel.bytesSent` when the client last took some output, and when.
  var outputSentMark: UInt64 = 0
  var outputProgressAt = EventLoop.now()
  /// Frames parsed but not handled yet (at most one read's worth): reading is
  /// paused, or this turn's budget is spent.
  var deferred: [FrameEvent] = []
  var deferredStart = 0
  /// Frames left to handle in this turn of the loop; then the handlers they
  /// started run (and their output counts) before more requests are taken.
  var budget = 0
  var turnScheduled = false
  /// A read of input buffered inside the TLS session is queued.
  var bufferedReadScheduled = false
  /// Frames handled per turn of the loop.
  static let framesPerTurn = 128
  /// The last HEADERS payload decoded and what it decoded to: a client
  /// repeating a call (a poller, a load generator) sends the same bytes
  /// every time, and comparing them costs far less than decoding them.
  var lastHeaders: (bytes: [UInt8], headers: CallHeaders)?
  /// Largest HEADERS payload kept in `lastHeaders` (an idle connection holds at most this).
  static let reusedHeadersLimit = 512

  init(
    fd: Int32, peer: String, peerHost: String, loop: EventLoop, configuration: TCPServerConfiguration, counted: Bool = true,
    tls: TLSSession? = nil, memory: MemoryBudget, peerCalls: PeerCalls, dispatcher: any ServerCallDispatcher, logger: Logger,
    onClose: @escaping (ServerConnection) -> Void
  ) {
    channel = SocketChannel(fd: fd, loop: loop, tls: tls, budget: memory)
    self.peer = peer
    self.peerHost = peerHost
    self.memory = memory
    self.peerCalls = peerCalls
    state = LockedValue(ServerConnectionState(configuration: configuration, now: EventLoop.now()))
    self.counted = counted
    self.configuration = configuration
    self.dispatcher = dispatcher
    self.logger = logger
    self.onClose = onClose
    parser = FrameParser(maxPayload: max(configuration.maxReceiveMessageSize, configuration.maxHeaderSize))
  }

  /// Registers with the loop and sends the server preface. Loop thread.
  func start() {
    _ = ga_set_nodelay(channel.fd)
    channel.onReadResumed = { [weak self] in self?.resumeReading() }
    channel.loop.assertInEventLoop()
    guard channel.register(events: channel.initialInterest, handler: self) else {
      close(reason: "cannot register")
      return
    }
    channel.write { $0.append(contentsOf: Preface.bytes) }
  }

  /// Sends the preface and a GOAWAY carrying `error`, then closes gracefully
  /// (for a connection over the limit). Loop thread.
  func refuseConnection(_ error: RPCError) {
    start()
    state.withLock { $0.refuseConnection() }
    channel.write { FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: 0, code: error.code.rawValue, message: error.message), to: &$0) }
    if channel.isEstablished {
      closeGracefully()
    } else {
      // TLS: the preface and GOAWAY go out once the handshake is done.
      channel.onEstablished = { [weak self] in self?.closeGracefully() }
    }
  }

  /// Calls currently running.
  var activeCallCount: Int { state.withLock { $0.running.count } }

  /// Whether the connection is half-closed, waiting for the peer's end of stream.
  var isLingering: Bool { state.withLock { $0.isLingering } }

  // MARK: Events

  func handleEvents(_ events: UInt32) {
    channel.loop.assertInEventLoop()
    if events & ga_epollout != 0 { channel.handleWritable() }
    guard events & (ga_epollin | ga_epollhup | ga_epollerr | ga_epollrdhup) != 0 else { return }
    if (channel.isReadPaused || channel.isReadHeld) && events & ga_epollin == 0 {
      // Not reading (too much unsent output, or requests waiting) and the peer hung up: its calls are moot.
      close(reason: "peer closed while not reading")
    } else {
      readAvailable()
    }
  }

  func readAvailable() {
    budget = Self.framesPerTurn
    guard handleDeferred() else {
      scheduleTurn()
      return
    }
    let buffer = channel.loop.readBuffer
    for _ in 0..<4 {
      let received = channel.receive(buffer)
      if received == -1 { break }
      if received <= 0 {
        close(reason: received == 0 ? "peer closed" : channel.tlsFailure ?? "read error")
        return
      }
      if isLingering { continue }  // half-closed: discard until the peer closes
      do {
        try consume(UnsafeRawBufferPointer(rebasing: buffer[0..<received]))
      } catch {
        fail(error)
        return
      }
      let now = EventLoop.now()
      let midFrame = parser.isMidFrame
      state.withLock { $0.received(at: now, midFrame: midFrame) }
      if channel.isClosed || channel.isReadPaused || hasDeferred { break }
      if received < buffer.count { break }
    }
    scheduleTurn()
  }

  func consume(_ bytes: UnsafeRawBufferPointer) throws(ProtocolViolation) {
    var bytes = bytes
    if prefaceBytes.count < Preface.size {
      let needed = Preface.size - prefaceBytes.count
      prefaceBytes.append(contentsOf: bytes.prefix(needed))
      bytes = UnsafeRawBufferPointer(rebasing: bytes[min(needed, bytes.count)...])
      if prefaceBytes.count < Preface.size {
        if !Preface.bytes.starts(with: prefaceBytes) { throw ProtocolViolation("bad connection preface") }
        return
      }
      try Preface.validate(prefaceBytes)
      state.withLock { $0.prefaceArrived() }
    }
    guard !bytes.isEmpty else { return }
    try parser.parse(bytes) { event throws(ProtocolViolation) in
      guard channel.acceptsInput else { return }
      // Too much output unsent, enough requests taken for this turn, or a
      // new call that must wait (`mustWait`): keep the rest of this read for
      // later, so requests do not turn into more responses than the peer
      // reads, nor into more pending calls than the limits allow.
      guard !hasDeferred && mayHandle(event) else {
        deferred.append(event)
        return
      }
      budget -= 1
      try handle(event)
    }
  }

  func handle(_ event: FrameEvent) throws(ProtocolViolation) {
    switch event {
    case .frame(let frame): try handle(frame)
    case .oversized(let header): try handleOversized(header)
    }
  }

  var hasDeferred: Bool { deferredStart < deferred.count }

  /// Handles deferred frames while the budget lasts and reading is allowed;
  /// returns whether all were.
  func handleDeferred() -> Bool {
    while hasDeferred {
      guard channel.acceptsInput, mayHandle(deferred[deferredStart]) else { return false }
      budget -= 1
      let event = deferred[deferredStart]
      deferredStart += 1
      do {
        try handle(event)
      } catch {
        fail(error)
        return false
      }
    }
    dropDeferred()
    if channel.isReadHeld { channel.holdReading(false) }
    return true
  }

  /// Whether `event` may be handled now: this turn's budget lasts, output is
  /// not over the bound, and a new call may start (else reading is held).
  func mayHandle(_ event: FrameEvent) -> Bool {
    guard budget > 0, !channel.isReadPaused else { return false }
    if case .frame(let frame) = event, frame.header.frameType == .headers, mustWait(frame) {
      channel.holdReading(true)
      return false
    }
    return true
  }

  func dropDeferred() {
    deferred = []
    deferredStart = 0
  }

  /// Continues with deferred frames after the work queued so far (the
  /// handlers just started), unless reading is paused (then the drain does).
  func scheduleTurn() {
    guard hasDeferred else {
      readBufferedInput()
      return
    }
    guard !turnScheduled, !channel.isReadPaused, !channel.isReadHeld, !channel.isClosed else { return }
    turnScheduled = true
    channel.loop.executeUnchecked { [self] in
      turnScheduled = false
      budget = Self.framesPerTurn
      _ = handleDeferred()
      scheduleTurn()
    }
  }

  /// Reads again (after the work queued so far) when the TLS session holds
  /// decrypted input that epoll cannot report, unless reading is held back.
  func readBufferedInput() {
    guard !bufferedReadScheduled, !isLingering, !channel.isReadPaused, !channel.isReadHeld, channel.hasBufferedInput else { return }
    bufferedReadScheduled = true
    channel.loop.executeUnchecked { [self] in
      bufferedReadScheduled = false
      guard !channel.isClosed else { return }
      readAvailable()
    }
  }

  /// Output drained after a pause: catch up on deferred frames. Loop thread.
  func resumeReading() {
    channel.loop.assertInEventLoop()
    // Time spent paused is the server's doing: restart the frame clocks.
    let now = EventLoop.now()
    state.withLock { $0.readingResumed(at: now) }
    budget = Self.framesPerTurn
    _ = handleDeferred()
    scheduleTurn()
  }
}
