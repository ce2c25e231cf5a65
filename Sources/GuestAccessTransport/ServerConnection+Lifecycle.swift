import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessProto
import GuestAccessWire
import Logging

/// GOAWAY, drain, timeouts and closing.
extension ServerConnection {
  /// Sends GOAWAY covering every call whose HEADERS the server has read
  /// (those parsed but not yet handled included); they are all served, the
  /// pending ones as their request message arrives. Closes once they have
  /// finished. Loop thread.
  func goAway(code: StatusCode = .ok, message: String = "server shutting down") {
    channel.loop.assertInEventLoop()
    guard !channel.isClosed else { return }
    var deferredLast: UInt32 = 0
    for event in deferred[deferredStart...] {
      if case .frame(let frame) = event, frame.header.frameType == .headers { deferredLast = max(deferredLast, frame.header.callID) }
    }
    if let last = state.withLock({ $0.drain(deferredLastCallID: deferredLast) }) {
      channel.write { FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: last, code: code.rawValue, message: message), to: &$0) }
    }
    checkDrained()
  }

  /// A protocol violation: GOAWAY with the reason, then a graceful close. Loop thread.
  func fail(_ violation: ProtocolViolation) {
    channel.loop.assertInEventLoop()
    logger.debug("closing connection", metadata: ["peer": "\(peer)", "reason": "\(violation)"])
    let last = state.withLock { $0.lastCallID }
    channel.write {
      FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: last, code: StatusCode.internalError.rawValue, message: violation.description), to: &$0)
    }
    closeGracefully()
  }

  /// Closes gracefully once a draining connection has nothing left to serve. Loop thread.
  func checkDrained() {
    let hasDeferred = hasDeferred
    guard state.withLock({ $0.isDrained(hasDeferred: hasDeferred) }) else { return }
    channel.sendDeferred()  // the GOAWAY and last responses of this turn
    if channel.pendingBytes == 0 { closeGracefully() }
  }

  /// Half-closes after what was written, cancels every call, and waits for the
  /// peer's end of stream (at most `lingerTimeout`). Loop thread.
  func closeGracefully() {
    channel.loop.assertInEventLoop()
    guard !channel.isClosed, !isLingering else { return }
    guard channel.shutdownOutput() else {
      close(reason: "peer not reading")
      return
    }
    let now = EventLoop.now()
    dropDeferred()
    if let released = state.withLock({ $0.startClosing(at: now) }) { release(released) }
  }

  /// Checks timeouts; called periodically on the loop thread.
  func tick(now: UInt64) {
    channel.loop.assertInEventLoop()
    guard !channel.isClosed else { return }
    if isLingering {
      if state.withLock({ $0.expired(at: now, readPaused: false) }) == .linger { close(reason: "linger timeout") }
      return
    }
    checkDrained()
    guard channel.acceptsInput else { return }
    let readPaused = channel.isReadPaused
    switch state.withLock({ $0.expired(at: now, readPaused: readPaused) }) {
    case .handshake?:
      fail(ProtocolViolation("no preface within the handshake timeout"))
      return
    case .frame?:
      fail(ProtocolViolation("frame not completed within the frame timeout"))
      return
    case .requestMessage?:
      fail(ProtocolViolation("request message not received within the frame timeout"))
      return
    case .stalePending(let callIDs, let freedBytes)?:
      memory.add(-freedBytes)
      for callID in callIDs {
        refuse(callID, RPCError.callNotProcessed("server is shutting down; the request message did not arrive"))
      }
    case .linger?, nil:
      break
    }
    guard checkSendProgress(now: now) else { return }
    closeIfOverBudget()
    if channel.isReadHeld { retryHeld() }
    guard channel.acceptsInput else { return }
    let hasDeferred = hasDeferred
    let keepalive = state.withLock { $0.keepalive(at: now, hasDeferred: hasDeferred) }
    if keepalive.closeUnanswered {
      close(reason: "keepalive ping not answered")
      return
    }
    if keepalive.ping {
      channel.write { FrameEncoder.append(.ping, callID: 0, payload: [UInt8](repeating: 0, count: 8), to: &$0) }
    }
    if keepalive.idleGoAway { goAway(code: .ok, message: "idle timeout") }
  }

  /// Closes the socket and cancels every call. Loop thread.
  func close(reason: String) {
    channel.loop.assertInEventLoop()
    guard channel.close() else { return }
    logger.trace("connection closed", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
    dropDeferred()
    if let released = state.withLock({ $0.closed() }) { release(released) }
    onClose(self)
  }

  /// Gives back what a transition took out: pending header bytes to the
  /// budget, running calls cancelled (no trailers).
  func release(_ released: ServerConnectionState<TCPServerResponder>.Released) {
    memory.add(-released.freedBytes)
    for responder in released.calls {
      peerCalls.ended()
      responder.cancelFromPeer()
    }
  }
}
