import CGuestAccessPosix
import GuestAccessCore
import GuestAccessProto
import GuestAccessWire
import Logging
import Synchronization

/// One accepted TCP connection: reads and parses frames on its loop thread,
/// turns complete requests into `ServerCall`s, and writes through its
/// `SocketChannel` from whichever thread finishes a call.
final class ServerConnection: EventLoopHandler, @unchecked Sendable {
  private struct Calls {
    var active: [UInt32: TCPServerResponder] = [:]
    var draining = false
  }

  let channel: SocketChannel
  let peer: String
  private let configuration: TCPServerConfiguration
  private let dispatcher: any ServerCallDispatcher
  private let logger: Logger
  private let onClose: (ServerConnection) -> Void
  private let calls = Mutex(Calls())

  // Loop-thread state.
  private var parser: FrameParser
  private var prefaceBytes: [UInt8] = []
  private var prefaceDone = false
  private var lastCallID: UInt32 = 0
  private var pending: [UInt32: (headers: CallHeaders, since: UInt64)] = [:]
  private let openedAt = EventLoop.now()
  private var lastReadAt = EventLoop.now()
  private var lastActiveAt = EventLoop.now()
  private var midFrameSince: UInt64?
  private var pingSentAt: UInt64?
  private var goAwaySent = false
  private static let readBufferSize = 64 * 1024
  private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readBufferSize, alignment: 16)

  init(
    fd: Int32, peer: String, loop: EventLoop, configuration: TCPServerConfiguration,
    dispatcher: any ServerCallDispatcher, logger: Logger, onClose: @escaping (ServerConnection) -> Void
  ) {
    channel = SocketChannel(fd: fd, loop: loop)
    self.peer = peer
    self.configuration = configuration
    self.dispatcher = dispatcher
    self.logger = logger
    self.onClose = onClose
    parser = FrameParser(maxPayload: max(configuration.maxReceiveMessageSize, configuration.maxHeaderSize))
  }

  deinit {
    readBuffer.deallocate()
  }

  /// Registers with the loop and sends the server preface. Loop thread.
  func start() {
    _ = ga_set_nodelay(channel.fd)
    guard channel.loop.register(fd: channel.fd, events: channel.initialInterest, handler: self) else {
      close(reason: "cannot register")
      return
    }
    channel.write { $0.append(contentsOf: Preface.bytes) }
  }

  /// Calls currently running.
  var activeCallCount: Int { calls.withLock { $0.active.count } }

  // MARK: Events

  func handleEvents(_ events: UInt32) {
    if events & ga_epollout != 0 { channel.handleWritable() }
    if events & (ga_epollin | ga_epollhup | ga_epollerr | ga_epollrdhup) != 0 { readAvailable() }
  }

  private func readAvailable() {
    for _ in 0..<4 {
      let received = channel.receive(readBuffer)
      if received == -1 { return }
      if received <= 0 {
        close(reason: received == 0 ? "peer closed" : "read error")
        return
      }
      lastReadAt = EventLoop.now()
      pingSentAt = nil
      do {
        try consume(UnsafeRawBufferPointer(rebasing: readBuffer[0..<received]))
      } catch {
        logger.debug("closing connection", metadata: ["peer": "\(peer)", "reason": "\(error)"])
        close(reason: "\(error)")
        return
      }
      if channel.isClosed { return }
      if received < Self.readBufferSize { return }
    }
  }

  private func consume(_ bytes: UnsafeRawBufferPointer) throws(ProtocolViolation) {
    var bytes = bytes
    if !prefaceDone {
      let needed = Preface.size - prefaceBytes.count
      prefaceBytes.append(contentsOf: bytes.prefix(needed))
      bytes = UnsafeRawBufferPointer(rebasing: bytes[min(needed, bytes.count)...])
      if prefaceBytes.count < Preface.size {
        if prefaceBytes.last.map({ _ in !Preface.bytes.starts(with: prefaceBytes) }) ?? false {
          throw ProtocolViolation("bad connection preface")
        }
        return
      }
      try Preface.validate(prefaceBytes)
      prefaceDone = true
    }
    guard !bytes.isEmpty else { return }
    parser.append(bytes)
    while let event = try parser.next() {
      switch event {
      case .frame(let frame): try handle(frame)
      case .oversized(let header): try handleOversized(header)
      }
    }
    midFrameSince = parser.isMidFrame ? (midFrameSince ?? EventLoop.now()) : nil
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
        refuse(header.callID, RPCError(
          code: .unavailable, message: "server is shutting down",
          errorInfo: ErrorInfo(reason: RPCChannel.notProcessedReason, domain: "guestaccess.v1")))
        return
      }
      if pending.count + activeCallCount >= configuration.maxConcurrentCallsPerConnection {
        refuse(header.callID, RPCError(
          code: .resourceExhausted,
          message: "more than \(configuration.maxConcurrentCallsPerConnection) concurrent calls on one connection"))
        return
      }
      pending[header.callID] = (callHeaders, EventLoop.now())
    case .message:
      guard header.callID != 0 else { throw ProtocolViolation("MESSAGE on call 0") }
      guard header.callID <= lastCallID else { throw ProtocolViolation("MESSAGE for call \(header.callID) that was never opened") }
      guard let opened = pending.removeValue(forKey: header.callID) else { return }
      guard header.flags.contains(.endStream) else {
        refuse(header.callID, RPCError(code: .unimplemented, message: "client streaming is not supported: the request message must carry END_STREAM"))
        return
      }
      start(header.callID, opened.headers, request: frame.payload)
    case .cancel:
      guard header.callID != 0 else { throw ProtocolViolation("CANCEL on call 0") }
      pending.removeValue(forKey: header.callID)
      let responder = calls.withLock { $0.active.removeValue(forKey: header.callID) }
      responder?.cancelFromPeer()
      checkDrained()
    case .ping:
      guard header.callID == 0 else { throw ProtocolViolation("PING on call \(header.callID)") }
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
        refuse(header.callID, RPCError(
          code: .resourceExhausted,
          message: "request message of \(header.length) bytes exceeds the limit of \(configuration.maxReceiveMessageSize)"))
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

  private func start(_ callID: UInt32, _ headers: CallHeaders, request: [UInt8]) {
    let responder = TCPServerResponder(callID: callID, connection: self, channel: channel)
    calls.withLock { $0.active[callID] = responder }
    let deadline: ContinuousClock.Instant? = headers.timeoutMicros == 0 ? nil
      : .now + .microseconds(Int64(min(headers.timeoutMicros, UInt64(Int64.max / 1000))))
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
    calls.withLock { $0.draining = true }
    if !goAwaySent {
      goAwaySent = true
      let last = lastCallID
      channel.write { FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: last, code: code.rawValue, message: message), to: &$0) }
    }
    // Requests whose message has not arrived are refused: they never ran.
    for callID in pending.keys {
      refuse(callID, RPCError(
        code: .unavailable, message: "server is shutting down",
        errorInfo: ErrorInfo(reason: RPCChannel.notProcessedReason, domain: "guestaccess.v1")))
    }
    pending.removeAll()
    checkDrained()
  }

  private func checkDrained() {
    let drained = calls.withLock { $0.draining && $0.active.isEmpty }
    if drained && channel.pendingBytes == 0 { close(reason: "drained") }
  }

  /// Checks timeouts; called every second on the loop thread.
  func tick(now: UInt64) {
    guard !channel.isClosed else { return }
    checkDrained()
    guard !channel.isClosed else { return }
    if !prefaceDone && now - openedAt > configuration.handshakeTimeout.nanoseconds {
      close(reason: "no preface within the handshake timeout")
      return
    }
    if let since = midFrameSince, now - since > configuration.frameTimeout.nanoseconds {
      close(reason: "frame not completed within the frame timeout")
      return
    }
    if let oldest = pending.values.map(\.since).min(), now - oldest > configuration.frameTimeout.nanoseconds {
      close(reason: "request message not received within the frame timeout")
      return
    }
    if let sent = pingSentAt, now - sent > configuration.keepaliveTimeout.nanoseconds {
      close(reason: "keepalive ping not answered")
      return
    }
    if pingSentAt == nil && now - lastReadAt > configuration.keepaliveInterval.nanoseconds {
      pingSentAt = now
      channel.write { FrameEncoder.append(.ping, callID: 0, payload: [UInt8](repeating: 0, count: 8), to: &$0) }
    }
    if activeCallCount == 0 && pending.isEmpty && now - max(lastActiveAt, lastReadAt) > configuration.idleTimeout.nanoseconds {
      goAway(code: .ok, message: "idle timeout")
    }
  }

  /// Closes the socket and cancels every call. Loop thread.
  func close(reason: String) {
    guard channel.close() else { return }
    pending.removeAll()
    let responders = calls.withLock { calls -> [TCPServerResponder] in
      let list = Array(calls.active.values)
      calls.active.removeAll()
      return list
    }
    for responder in responders { responder.cancelFromPeer() }
    onClose(self)
  }
}
