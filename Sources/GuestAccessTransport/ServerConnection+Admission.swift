import GuestAccessCore
import GuestAccessProto
import GuestAccessWire

/// Which new calls a connection takes now, and which wait unread: the
/// limits on every client before and after it authenticates.
extension ServerConnection {
  /// Whether the call `frame` (a HEADERS) opens must wait before it is
  /// read (`ServerConnectionState.mustWait`). Loop thread.
  func mustWait(_ frame: Frame) -> Bool {
    let input = ServerConnectionState<TCPServerResponder>.AdmissionInput(
      queuedOutput: channel.pendingBytes, memoryExhausted: memory.isExhausted, peerRunning: peerCalls.count,
      authenticated: authenticated.load(ordering: .relaxed))
    return state.withLock { $0.mustWait(frame.header.callID, headerBytes: frame.payload.count, input) }
  }

  /// Takes the requests that waited, if the reason they waited is gone. Loop thread.
  func retryHeld() {
    channel.loop.assertInEventLoop()
    guard channel.isReadHeld, channel.acceptsInput else { return }
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
