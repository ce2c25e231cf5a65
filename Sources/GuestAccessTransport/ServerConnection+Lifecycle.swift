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
    guard !channel.isClosed else { return }
    calls.withLock { $0.draining = true }
    if !goAwaySent {
      goAwaySent = true
      var last = lastCallID
      for event in deferred[deferredStart...] {
        if case .frame(let frame) = event, frame.header.frameType == .headers { last = max(last, frame.header.callID) }
      }
      goAwayLastCallID = last
      channel.write { FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: last, code: code.rawValue, message: message), to: &$0) }
    }
    checkDrained()
  }

  /// A protocol violation: GOAWAY with the reason, then a graceful close. Loop thread.
  func fail(_ violation: ProtocolViolation) {
    logger.debug("closing connection", metadata: ["peer": "\(peer)", "reason": "\(violation)"])
    let last = lastCallID
    goAwaySent = true
    goAwayLastCallID = goAwayLastCallID ?? last
    channel.write {
      FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: last, code: StatusCode.internalError.rawValue, message: violation.description), to: &$0)
    }
    closeGracefully()
  }

  func checkDrained() {
    guard lingeringSince == nil else { return }
    let drained = calls.withLock { $0.draining && $0.active.isEmpty }
    guard drained && pending.isEmpty && !hasDeferred else { return }
    channel.sendDeferred()  // the GOAWAY and last responses of this turn
    if channel.pendingBytes == 0 { closeGracefully() }
  }

  /// Half-closes after what was written, cancels every call, and waits for the
  /// peer's end of stream (at most `lingerTimeout`). Loop thread.
  func closeGracefully() {
    guard lingeringSince == nil, !channel.isClosed else { return }
    guard channel.shutdownOutput() else {
      close(reason: "peer not reading")
      return
    }
    lingeringSince = EventLoop.now()
    pending.removeAll()
    dropDeferred()
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
    if !paused, let oldest = pending.oldest, now - oldest > configuration.frameTimeout.nanoseconds {
      guard goAwaySent else {
        fail(ProtocolViolation("request message not received within the frame timeout"))
        return
      }
      // Draining: the calls whose request never came are not processed.
      for callID in pending.ids(since: now - configuration.frameTimeout.nanoseconds) {
        pending.remove(callID)
        refuse(callID, RPCError.callNotProcessed("server is shutting down; the request message did not arrive"))
      }
    }
    guard checkSendProgress(now: now) else { return }
    closeIfOverBudget()
    if channel.isReadHeld { retryHeld() }
    guard !channel.isClosed, lingeringSince == nil else { return }
    if let sent = pingSentAt, now - sent > configuration.keepaliveTimeout.nanoseconds {
      close(reason: "keepalive ping not answered")
      return
    }
    if prefaceDone && pingSentAt == nil && now - lastReadAt > configuration.keepaliveInterval.nanoseconds {
      pingSentAt = now
      channel.write { FrameEncoder.append(.ping, callID: 0, payload: [UInt8](repeating: 0, count: 8), to: &$0) }
    }
    if activeCallCount > 0 || !pending.isEmpty || hasDeferred {
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
    dropDeferred()
    cancelCalls()
    onClose(self)
  }

  func cancelCalls() {
    let responders = calls.withLock { calls -> [TCPServerResponder] in
      let list = Array(calls.active.values)
      calls.active.removeAll()
      return list
    }
    for responder in responders { responder.cancelFromPeer() }
  }
}
