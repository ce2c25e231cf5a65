import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessProto
import GuestAccessWire
import Logging

/// Handling of each frame type a client sends.
extension ServerConnection {
  func handle(_ frame: Frame) throws(ProtocolViolation) {
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
        callHeaders = try decodeMessage(CallHeaders.self, from: frame.payload)
      } catch where error.isNULInString {
        // Well-formed, only unrepresentable: the call fails, the connection stays.
        refuse(header.callID, RPCError(code: .invalidArgument, message: "call headers: \(error.reason)"))
        return
      } catch {
        throw ProtocolViolation("undecodable call headers")
      }
      // After GOAWAY only the calls it covers are served (those it does not
      // are refused); before it, a call is taken even when the server has
      // begun to drain: the GOAWAY about to be sent covers it.
      if let last = goAwayLastCallID, header.callID > last {
        refuse(header.callID, RPCError.callNotProcessed("server is shutting down"))
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
      pending.add(header.callID, PendingCalls.Call(headers: callHeaders, deadline: deadline, since: EventLoop.now(), headerBytes: frame.payload.count))
    case .message:
      guard header.callID != 0 else { throw ProtocolViolation("MESSAGE on call 0") }
      guard header.callID <= lastCallID else { throw ProtocolViolation("MESSAGE for call \(header.callID) that was never opened") }
      guard let opened = pending.remove(header.callID) else { return }
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
      pending.remove(header.callID)
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

  func handleOversized(_ header: FrameHeader) throws(ProtocolViolation) {
    switch header.frameType {
    case .headers:
      try openCall(header.callID)
      refuse(header.callID, RPCError(code: .resourceExhausted, message: "call headers of \(header.length) bytes exceed the limit of \(configuration.maxHeaderSize)"))
    case .message:
      guard header.callID != 0, header.callID <= lastCallID else { throw ProtocolViolation("MESSAGE for a call that was never opened") }
      if pending.remove(header.callID) != nil {
        refuse(header.callID, Self.tooLarge(Int(header.length), configuration.maxReceiveMessageSize))
      }
    default:
      throw ProtocolViolation("oversized \(header.frameType.map { "\($0)" } ?? "unknown") frame of \(header.length) bytes")
    }
  }

  func openCall(_ callID: UInt32) throws(ProtocolViolation) {
    guard callID != 0 else { throw ProtocolViolation("HEADERS on call 0") }
    guard callID > lastCallID else { throw ProtocolViolation("call id \(callID) is not above \(lastCallID)") }
    lastCallID = callID
    lastActiveAt = EventLoop.now()
  }

  func refuse(_ callID: UInt32, _ error: RPCError) {
    channel.write { FrameEncoder.append(.trailers, callID: callID, message: error.trailers, to: &$0) }
  }

  static func tooLarge(_ size: Int, _ limit: Int) -> RPCError {
    RPCError(code: .resourceExhausted, message: "request message of \(size) bytes exceeds the limit of \(limit)")
  }

  func start(_ callID: UInt32, _ headers: CallHeaders, deadline: ContinuousClock.Instant?, request: [UInt8]) {
    let responder = TCPServerResponder(callID: callID, connection: self, channel: channel)
    calls.withLock { $0.active[callID] = responder }
    peerCalls.started()
    if let deadline { responder.armDeadline(deadline, on: channel.loop) }
    dispatcher.dispatch(ServerCall(
      path: headers.method, metadata: Metadata(entries: headers.metadata), deadline: deadline, request: request,
      peer: peer, peerCertificate: channel.peerCertificate, executor: channel.loop, responder: responder))
  }

  /// A call finished (any thread).
  func callEnded(_ callID: UInt32) {
    let (ended, drained) = calls.withLock { calls -> (Bool, Bool) in
      let ended = calls.active.removeValue(forKey: callID) != nil
      return (ended, calls.draining && calls.active.isEmpty)
    }
    if ended { peerCalls.ended() }
    if drained || channel.isReadHeld {
      channel.loop.executeUnchecked { [self] in
        retryHeld()
        checkDrained()
      }
    }
    closeIfOverBudget()
  }
}
