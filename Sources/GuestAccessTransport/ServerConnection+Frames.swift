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
      let input: ServerConnectionState<TCPServerResponder>.CallHeadersInput
      if frame.payload.count > configuration.maxHeaderSize {
        input = .oversized(frame.payload.count)
      } else {
        do {
          let callHeaders = try decodedHeaders(frame.payload)
          let deadline: ContinuousClock.Instant? = callHeaders.timeoutMicros == 0 ? nil
            : .now + .microseconds(Int64(min(callHeaders.timeoutMicros, UInt64(Int64.max / 1000))))
          input = .decoded(callHeaders, deadline: deadline)
        } catch where error.isNULInString {
          // Well-formed, only unrepresentable: the call fails, the connection stays.
          input = .unrepresentable(error.reason)
        } catch {
          input = .malformed
        }
      }
      try headersArrived(header.callID, payloadSize: frame.payload.count, input)
    case .message:
      let action = try state.withLock { state throws(ProtocolViolation) in
        try state.messageArrived(header.callID, size: frame.payload.count, endStream: header.flags.contains(.endStream)) { callID in
          TCPServerResponder(callID: callID, connection: self, channel: channel)
        }
      }
      perform(action, header.callID, request: frame.payload)
    case .cancel:
      let released = try state.withLock { state throws(ProtocolViolation) in try state.cancelArrived(header.callID) }
      release(released)
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

  /// `payload` decoded as `CallHeaders`, or the last decode again when the
  /// bytes are the same (a successful decode of at most
  /// `reusedHeadersLimit` bytes is kept). Loop thread.
  private func decodedHeaders(_ payload: [UInt8]) throws(ProtoDecodingError) -> CallHeaders {
    if let last = lastHeaders, last.bytes == payload { return last.headers }
    let headers = try decodeMessage(CallHeaders.self, from: payload)
    if payload.count <= Self.reusedHeadersLimit { lastHeaders = (payload, headers) }
    return headers
  }

  func handleOversized(_ header: FrameHeader) throws(ProtocolViolation) {
    switch header.frameType {
    case .headers:
      try headersArrived(header.callID, payloadSize: Int(header.length), .oversized(Int(header.length)))
    case .message:
      let action = try state.withLock { state throws(ProtocolViolation) in
        try state.oversizedMessageArrived(header.callID, size: Int(header.length))
      }
      perform(action, header.callID, request: [])
    default:
      throw ProtocolViolation("oversized \(header.frameType.map { "\($0)" } ?? "unknown") frame of \(header.length) bytes")
    }
  }

  private func headersArrived(
    _ callID: UInt32, payloadSize: Int, _ input: ServerConnectionState<TCPServerResponder>.CallHeadersInput
  ) throws(ProtocolViolation) {
    let now = EventLoop.now()
    let action = try state.withLock { state throws(ProtocolViolation) in
      try state.headersArrived(callID, payloadSize: payloadSize, input, now: now)
    }
    switch action {
    case .pend(let headerBytes): memory.add(headerBytes)
    case .refuse(let error): refuse(callID, error)
    }
  }

  private func perform(_ action: ServerConnectionState<TCPServerResponder>.MessageAction, _ callID: UInt32, request: [UInt8]) {
    switch action {
    case .ignore:
      break
    case .refuse(let error, let freedBytes):
      memory.add(-freedBytes)
      refuse(callID, error)
    case .start(let opened, let responder):
      memory.add(-opened.headerBytes)
      start(responder, opened, request: request)
    }
  }

  func refuse(_ callID: UInt32, _ error: RPCError) {
    channel.write { FrameEncoder.append(.trailers, callID: callID, message: error.trailers, to: &$0) }
  }

  /// Dispatches a call the state started (its responder is in the table).
  private func start(_ responder: TCPServerResponder, _ opened: PendingCalls.Call, request: [UInt8]) {
    peerCalls.started()
    if let deadline = opened.deadline { responder.armDeadline(deadline, on: channel.loop) }
    dispatcher.dispatch(ServerCall(
      path: opened.headers.method, metadata: Metadata(entries: opened.headers.metadata), deadline: opened.deadline, request: request,
      peer: peer, peerCertificate: channel.peerCertificate, executor: channel.loop, responder: responder))
  }

  /// A call finished (any thread).
  func callEnded(_ callID: UInt32) {
    let (ended, drained) = state.withLock { $0.callEnded(callID) }
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
