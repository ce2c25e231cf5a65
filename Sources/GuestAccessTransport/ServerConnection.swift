import CGuestAccessPosix
import GuestAccessCore
import GuestAccessProto
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
  private struct Calls {
    var active: [UInt32: TCPServerResponder] = [:]
    var draining = false
  }

  let channel: SocketChannel
  let peer: String
  /// Whether the connection counts towards `maxConnections` (refused ones do not).
  let counted: Bool
  private let configuration: TCPServerConfiguration
  private let dispatcher: any ServerCallDispatcher
  private let logger: Logger
  private let onClose: (ServerConnection) -> Void
  private let calls = Mutex(Calls())
  /// Time a half-closed connection waits for the peer's end of stream.
  static let lingerTimeout: Duration = .seconds(2)

  // Loop-thread state.
  private var parser: FrameParser
  private var prefaceBytes: [UInt8] = []
  private var prefaceDone = false
  private var lastCallID: UInt32 = 0
  /// Calls whose HEADERS arrived but not their request message; the deadline
  /// counts from the HEADERS.
  private var pending: [UInt32: (headers: CallHeaders, deadline: ContinuousClock.Instant?, since: UInt64)] = [:]
  private let openedAt = EventLoop.now()
  private var lastReadAt = EventLoop.now()
  private var lastActiveAt = EventLoop.now()
  private var midFrameSince: UInt64?
  private var pingSentAt: UInt64?
  private var goAwaySent = false
  private var lingeringSince: UInt64?
  /// Frames parsed but not handled because reading paused (at most one read's worth).
  private var deferred: [FrameEvent] = []

  init(
    fd: Int32, peer: String, loop: EventLoop, configuration: TCPServerConfiguration, counted: Bool = true,
    dispatcher: any ServerCallDispatcher, logger: Logger, onClose: @escaping (ServerConnection) -> Void
  ) {
    channel = SocketChannel(fd: fd, loop: loop)
    self.peer = peer
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
    guard channel.loop.register(fd: channel.fd, events: channel.initialInterest, handler: self) else {
      close(reason: "cannot register")
      return
    }
    channel.write { $0.append(contentsOf: Preface.bytes) }
  }

  /// Sends the preface and a GOAWAY carrying `error`, then closes gracefully
  /// (for a connection over the limit). Loop thread.
  func refuseConnection(_ error: RPCError) {
    start()
    goAwaySent = true
    calls.withLock { $0.draining = true }
    channel.write { FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: 0, code: error.code.rawValue, message: error.message), to: &$0) }
    closeGracefully()
  }

  /// Calls currently running.
  var activeCallCount: Int { calls.withLock { $0.active.count } }

  // MARK: Events

  func handleEvents(_ events: UInt32) {
    if events & ga_epollout != 0 { channel.handleWritable() }
    guard events & (ga_epollin | ga_epollhup | ga_epollerr | ga_epollrdhup) != 0 else { return }
    if channel.isReadPaused && events & ga_epollin == 0 {
      // Not reading (too much unsent output) and the peer hung up: its calls are moot.
      close(reason: "peer closed while not reading")
    } else {
      readAvailable()
    }
  }

  private func readAvailable() {
    guard handleDeferred() else { return }
    let buffer = channel.loop.readBuffer
    for _ in 0..<4 {
      let received = channel.receive(buffer)
      if received == -1 { return }
      if received <= 0 {
        close(reason: received == 0 ? "peer closed" : "read error")
        return
      }
      lastReadAt = EventLoop.now()
      pingSentAt = nil
      if lingeringSince != nil { continue }  // half-closed: discard until the peer closes
      do {
        try consume(UnsafeRawBufferPointer(rebasing: buffer[0..<received]))
      } catch {
        fail(error)
        return
      }
      if channel.isClosed || channel.isReadPaused { return }
      if received < buffer.count { return }
    }
  }

  private func consume(_ bytes: UnsafeRawBufferPointer) throws(ProtocolViolation) {
    var bytes = bytes
    if !prefaceDone {
      let needed = Preface.size - prefaceBytes.count
      prefaceBytes.append(contentsOf: bytes.prefix(needed))
      bytes = UnsafeRawBufferPointer(rebasing: bytes[min(needed, bytes.count)...])
      if prefaceBytes.count < Preface.size {
        if !Preface.bytes.starts(with: prefaceBytes) { throw ProtocolViolation("bad connection preface") }
        return
      }
      try Preface.validate(prefaceBytes)
      prefaceDone = true
      prefaceBytes = []
    }
    guard !bytes.isEmpty else { return }
    try parser.parse(bytes) { event throws(ProtocolViolation) in
      guard lingeringSince == nil, !channel.isClosed else { return }
      // Too much output unsent: keep the rest of this read for later, so
      // requests stop turning into responses nobody reads.
      guard deferred.isEmpty && !channel.isReadPaused else {
        deferred.append(event)
        return
      }
      try handle(event)
    }
    midFrameSince = parser.isMidFrame ? (midFrameSince ?? EventLoop.now()) : nil
  }

  private func handle(_ event: FrameEvent) throws(ProtocolViolation) {
    switch event {
    case .frame(let frame): try handle(frame)
    case .oversized(let header): try handleOversized(header)
    }
  }

  /// Handles deferred frames while reading is allowed; returns whether all were.
  private func handleDeferred() -> Bool {
    while !deferred.isEmpty {
      guard !channel.isReadPaused, !channel.isClosed, lingeringSince == nil else { return false }
      let event = deferred.removeFirst()
      do {
        try handle(event)
      } catch {
        fail(error)
        return false
      }
    }
    return true
  }

  /// Output drained after a pause: catch up on deferred frames. Loop thread.
  private func resumeReading() {
    let now = EventLoop.now()
    // Time spent paused is the server's doing: restart the frame clocks.
    if midFrameSince != nil { midFrameSince = now }
    for callID in pending.keys { pending[callID]?.since = now }
    _ = handleDeferred()
  }

  // MARK: Frames

  private func handle(_ frame: Frame) throws(ProtocolViolation) {
    let header = frame.header
    switch header.frameType! {
    case .headers:
      try openCall(header.callID)
      guard frame.payload.count <= configuration.maxHeaderSize else {
        refuse(header.callID, RPCError(code: .resourceExhausted, message: "call headers of \(frame.payload.count) bytes exceed the limit of \(configuration.maxHeaderSize)"))
        return
      }
      let callHeaders: CallHeaders
      do {
        callHeaders = try CallHeaders(serializedBytes: frame.payload)
      } catch {
        throw ProtocolViolation("undecodable call headers")
      }
      if calls.withLock({ $0.draining }) || !dispatcher.isAcceptingCalls {
        refuse(header.callID, Self.notProcessed("server is shutting down"))
        return
      }
      if pending.count + activeCallCount >= configuration.maxConcurrentCallsPerConnection {
        refuse(header.callID, RPCError(
          code: .resourceExhausted,
          message: "more than \(configuration.maxConcurrentCallsPerConnection) concurrent calls on one connection"))
        return
      }
      let deadline: ContinuousClock.Instant? = callHeaders.timeoutMicros == 0 ? nil
        : .now + .microseconds(Int64(min(callHeaders.timeoutMicros, UInt64(Int64.max / 1000))))
      pending[header.callID] = (callHeaders, deadline, EventLoop.now())
    case .message:
      guard header.callID != 0 else { throw ProtocolViolation("MESSAGE on call 0") }
      guard header.callID <= lastCallID else { throw ProtocolViolation("MESSAGE for call \(header.callID) that was never opened") }
      guard let opened = pending.removeValue(forKey: header.callID) else { return }
      guard frame.payload.count <= configuration.maxReceiveMessageSize else {
        refuse(header.callID, Self.tooLarge(frame.payload.count, configuration.maxReceiveMessageSize))
        return
      }
      guard header.flags.contains(.endStream) else {
        refuse(header.callID, RPCError(code: .unimplemented, message: "client streaming is not supported: the request message must carry END_STREAM"))
        return
      }
      start(header.callID, opened.headers, deadline: opened.deadline, request: frame.payload)
    case .cancel:
      guard header.callID != 0 else { throw ProtocolViolation("CANCEL on call 0") }
      pending.removeValue(forKey: header.callID)
      let responder = calls.withLock { $0.active.removeValue(forKey: header.callID) }
      responder?.cancelFromPeer()
      checkDrained()
    case .ping:
      guard header.callID == 0 else { throw ProtocolViolation("PING on call \(header.callID)") }
      guard frame.payload.count == 8 else { throw ProtocolViolation("PING payload of \(frame.payload.count) bytes, not 8") }
      if !header.flags.contains(.ack) {
        channel.write { FrameEncoder.append(.ping, flags: .ack, callID: 0, payload: frame.payload, to: &$0) }
      }
    case .trailers, .goAway:
      throw ProtocolViolation("\(header.frameType!) frames are sent by servers only")
    }
  }

  private func handleOversized(_ header: FrameHeader) throws(ProtocolViolation) {
    switch header.frameType {
    case .headers:
      try openCall(header.callID)
      refuse(header.callID, RPCError(code: .resourceExhausted, message: "call headers of \(header.length) bytes exceed the limit of \(configuration.maxHeaderSize)"))
    case .message:
      guard header.callID != 0, header.callID <= lastCallID else { throw ProtocolViolation("MESSAGE for a call that was never opened") }
      if pending.removeValue(forKey: header.callID) != nil {
        refuse(header.callID, Self.tooLarge(Int(header.length), configuration.maxReceiveMessageSize))
      }
    default:
      throw ProtocolViolation("oversized \(header.frameType.map { "\($0)" } ?? "unknown") frame of \(header.length) bytes")
    }
  }

  private func openCall(_ callID: UInt32) throws(ProtocolViolation) {
    guard callID != 0 else { throw ProtocolViolation("HEADERS on call 0") }
    guard callID > lastCallID else { throw ProtocolViolation("call id \(callID) is not above \(lastCallID)") }
    lastCallID = callID
    lastActiveAt = EventLoop.now()
  }

  private func refuse(_ callID: UInt32, _ error: RPCError) {
    channel.write { FrameEncoder.append(.trailers, callID: callID, message: error.trailers, to: &$0) }
  }

  static func tooLarge(_ size: Int, _ limit: Int) -> RPCError {
    RPCError(code: .resourceExhausted, message: "request message of \(size) bytes exceeds the limit of \(limit)")
  }

  static func notProcessed(_ message: String) -> RPCError {
    RPCError(code: .unavailable, message: message, errorInfo: ErrorInfo(reason: RPCChannel.notProcessedReason, domain: "guestaccess.v1"))
  }

  private func start(_ callID: UInt32, _ headers: CallHeaders, deadline: ContinuousClock.Instant?, request: [UInt8]) {
    let responder = TCPServerResponder(callID: callID, connection: self, channel: channel)
    calls.withLock { $0.active[callID] = responder }
    if let deadline { responder.armDeadline(deadline, on: channel.loop) }
    dispatcher.dispatch(ServerCall(
      path: headers.method, metadata: Metadata(entries: headers.metadata), deadline: deadline, request: request,
      peer: peer, executor: channel.loop, responder: responder))
  }

  /// A call finished (any thread).
  func callEnded(_ callID: UInt32) {
    let drained = calls.withLock { calls -> Bool in
      calls.active.removeValue(forKey: callID)
      return calls.draining && calls.active.isEmpty
    }
    if drained {
      channel.loop.executeUnchecked { [self] in checkDrained() }
    }
  }

  // MARK: Lifecycle

  /// Sends GOAWAY with the last accepted call id; closes once calls finish. Loop thread.
  func goAway(code: StatusCode = .ok, message: String = "server shutting down") {
    guard !channel.isClosed else { return }
    calls.withLock { $0.draining = true }
    if !goAwaySent {
      goAwaySent = true
      let last = lastCallID
      channel.write { FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: last, code: code.rawValue, message: message), to: &$0) }
    }
    // Requests whose message has not arrived are refused: they never ran.
    for callID in pending.keys.sorted() {
      refuse(callID, Self.notProcessed("server is shutting down"))
    }
    pending.removeAll()
    checkDrained()
  }

  /// A protocol violation: GOAWAY with the reason, then a graceful close. Loop thread.
  private func fail(_ violation: ProtocolViolation) {
    logger.debug("closing connection", metadata: ["peer": "\(peer)", "reason": "\(violation)"])
    let last = lastCallID
    goAwaySent = true
    channel.write {
      FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: last, code: StatusCode.internalError.rawValue, message: violation.description), to: &$0)
    }
    closeGracefully()
  }

  private func checkDrained() {
    guard lingeringSince == nil else { return }
    let drained = calls.withLock { $0.draining && $0.active.isEmpty }
    if drained && pending.isEmpty && channel.pendingBytes == 0 { closeGracefully() }
  }

  /// Half-closes after what was written, cancels every call, and waits for the
  /// peer's end of stream (at most `lingerTimeout`). Loop thread.
  private func closeGracefully() {
    guard lingeringSince == nil, !channel.isClosed else { return }
    guard channel.shutdownOutput() else {
      close(reason: "peer not reading")
      return
    }
    lingeringSince = EventLoop.now()
    pending.removeAll()
    deferred.removeAll()
    cancelCalls()
  }

  /// Checks timeouts; called periodically on the loop thread.
  func tick(now: UInt64) {
    guard !channel.isClosed else { return }
    if let since = lingeringSince {
      if now - since > Self.lingerTimeout.nanoseconds { close(reason: "linger timeout") }
      return
    }
    checkDrained()
    guard !channel.isClosed, lingeringSince == nil else { return }
    if !prefaceDone && now - openedAt > configuration.handshakeTimeout.nanoseconds {
      fail(ProtocolViolation("no preface within the handshake timeout"))
      return
    }
    let paused = channel.isReadPaused
    if !paused, let since = midFrameSince, now - since > configuration.frameTimeout.nanoseconds {
      fail(ProtocolViolation("frame not completed within the frame timeout"))
      return
    }
    if !paused, let oldest = pending.values.lazy.map(\.since).min(), now - oldest > configuration.frameTimeout.nanoseconds {
      fail(ProtocolViolation("request message not received within the frame timeout"))
      return
    }
    if let sent = pingSentAt, now - sent > configuration.keepaliveTimeout.nanoseconds {
      close(reason: "keepalive ping not answered")
      return
    }
    if prefaceDone && pingSentAt == nil && now - lastReadAt > configuration.keepaliveInterval.nanoseconds {
      pingSentAt = now
      channel.write { FrameEncoder.append(.ping, callID: 0, payload: [UInt8](repeating: 0, count: 8), to: &$0) }
    }
    if activeCallCount > 0 || !pending.isEmpty || !deferred.isEmpty {
      lastActiveAt = now
    } else if !goAwaySent && now - lastActiveAt > configuration.idleTimeout.nanoseconds {
      goAway(code: .ok, message: "idle timeout")
    }
  }

  /// Closes the socket and cancels every call. Loop thread.
  func close(reason: String) {
    guard channel.close() else { return }
    logger.trace("connection closed", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
    pending.removeAll()
    deferred.removeAll()
    cancelCalls()
    onClose(self)
  }

  private func cancelCalls() {
    let responders = calls.withLock { calls -> [TCPServerResponder] in
      let list = Array(calls.active.values)
      calls.active.removeAll()
      return list
    }
    for responder in responders { responder.cancelFromPeer() }
  }
}
