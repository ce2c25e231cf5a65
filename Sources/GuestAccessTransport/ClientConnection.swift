import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessProto
import GuestAccessTLS
import GuestAccessWire

#if canImport(Glibc)
import Glibc
#endif

/// One client connection: multiplexes calls by call id, reads on its loop
/// thread, writes from the calling thread.
final class ClientConnection: EventLoopHandler, ConnectingConnection, @unchecked Sendable {
  /// Who takes a call's outcome: a unary call's suspended task, or a stream.
  enum Sink {
    case unary(CheckedContinuation<[UInt8], any Error>)
    case stream(RawResponseStream.Continuation)

    var kind: ClientCallTable<Sink>.Kind {
      if case .unary = self { .unary } else { .stream }
    }
  }

  let channel: SocketChannel
  let target: String
  /// The calls in flight; its actions are performed outside the lock.
  private let calls = LockedValue(ClientCallTable<Sink>())
  private let onUnusable: @Sendable (ClientConnection) -> Void
  /// The last encoded `CallHeaders` without a deadline, reused while the
  /// next call's are the same (a poller, a load tool): encoding them is a
  /// good part of a small call's cost. Used only inside `channel.write`'s
  /// closure, so under the channel's lock.
  private var lastHeaders: (headers: CallHeaders, bytes: [UInt8])?
  // Loop-thread state.
  private var reader = ClientFrameReader()

  init(fd: Int32, loop: EventLoop, target: String, tls: TLSSession? = nil, onUnusable: @escaping @Sendable (ClientConnection) -> Void) {
    channel = SocketChannel(fd: fd, loop: loop, tls: tls)
    self.target = target
    self.onUnusable = onUnusable
  }

  /// Whether new calls may be started on this connection.
  var isUsable: Bool { calls.withLock { $0.isUsable } }

  /// Calls in flight.
  var activeCalls: Int { calls.withLock { $0.count } }

  /// Switches the loop registration from the connect waiter to the connection. Loop thread.
  func activate() {
    channel.loop.assertInEventLoop()
    _ = channel.register(events: channel.initialInterest, handler: self)
    channel.write { $0.append(contentsOf: Preface.bytes) }
  }

  // MARK: Calls

  /// Sends a unary call and waits for its response.
  func unary(path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]) async throws -> [UInt8] {
    let headers = CallHeaders(method: path, metadata: metadata.entries, timeoutMicros: Self.timeoutMicros(deadline))
    let box = CallBox()
    let timer = armDeadline(deadline, box: box)
    defer { timer?.cancel() }
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
        start(headers: headers, request: request, sink: .unary(continuation), box: box)
      }
    } onCancel: {
      end(box, RPCError(code: .cancelled, message: "call cancelled by the client"))
    }
  }

  /// Starts a server-streaming call feeding `continuation`.
  func serverStreaming(
    path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8],
    continuation: RawResponseStream.Continuation, consumerGone: TerminationFlag? = nil
  ) {
    let headers = CallHeaders(method: path, metadata: metadata.entries, timeoutMicros: Self.timeoutMicros(deadline))
    let box = CallBox()
    let timer = armDeadline(deadline, box: box)
    let cancelled = RPCError(code: .cancelled, message: "call cancelled by the client")
    continuation.onTermination = { [self] termination in
      timer?.cancel()
      if case .cancelled = termination { end(box, cancelled) }
    }
    // The consumer may have left while a connection was being picked: the
    // handler above replaced the one that noticed, so check the flag it set.
    if consumerGone?.isSet == true {
      timer?.cancel()
      continuation.finish(throwing: cancelled)
      return
    }
    start(headers: headers, request: request, sink: .stream(continuation), box: box)
    if consumerGone?.isSet == true { end(box, cancelled) }
  }

  /// A loop timer that fails the call with DEADLINE_EXCEEDED (and cancels it
  /// on the server) at `deadline`.
  private func armDeadline(_ deadline: ContinuousClock.Instant?, box: CallBox) -> LoopTimer? {
    deadline.map { deadline in
      channel.loop.schedule(at: deadline) { [self] in
        end(box, RPCError(code: .deadlineExceeded, message: "deadline exceeded"))
      }
    }
  }

  /// Ends a call early (caller cancelled, deadline): now if it has its id,
  /// else as soon as it gets one.
  private func end(_ box: CallBox, _ error: RPCError) {
    if let callID = box.end(error) { fail(callID, error, sendCancel: true) }
  }

  private static func timeoutMicros(_ deadline: ContinuousClock.Instant?) -> UInt64 {
    guard let deadline else { return 0 }
    let remaining = deadline - .now
    let micros = remaining.components.seconds * 1_000_000 + remaining.components.attoseconds / 1_000_000_000_000
    return UInt64(max(1, micros))
  }

  private func start(headers: CallHeaders, request: [UInt8], sink: Sink, box: CallBox) {
    var refused: RPCError?
    var endedEarly: RPCError?
    let written = channel.write { buffer in
      // The call id is taken under the socket's lock so ids reach the wire in order.
      let callID: UInt32
      switch calls.withLock({ $0.open(sink, kind: sink.kind, target: target) }) {
      case .success(let id): callID = id
      case .failure(let error):
        refused = RPCError(error)
        return
      }
      endedEarly = box.set(callID)
      if headers.timeoutMicros == 0 {
        if lastHeaders?.headers != headers {
          var bytes: [UInt8] = []
          headers.serialize(into: &bytes)
          lastHeaders = (headers, bytes)
        }
        FrameEncoder.append(.headers, callID: callID, payload: lastHeaders!.bytes, to: &buffer)
      } else {
        FrameEncoder.append(.headers, callID: callID, message: headers, to: &buffer)
      }
      FrameEncoder.append(.message, flags: .endStream, callID: callID, payload: request, to: &buffer)
    }
    if let refused {
      Self.complete(sink, with: .failure(refused))
    } else if !written {
      let error = RPCError(.connectionEnded(target: target, reason: calls.withLock { $0.endReason }))
      if let callID = box.callID {
        fail(callID, error, sendCancel: false)
      } else {
        Self.complete(sink, with: .failure(error))
      }
    }
    if let endedEarly, let callID = box.callID {
      fail(callID, endedEarly, sendCancel: true)
    }
  }

  /// Ends a call locally with `error`, telling the server when asked.
  private func fail(_ callID: UInt32?, _ error: RPCError, sendCancel: Bool) {
    guard let callID else { return }
    guard let sink = calls.withLock({ $0.end(callID: callID) }) else { return }
    ended(callID, sink, error, sendCancel: sendCancel)
  }

  /// A call the table no longer holds ended here with `error`: tell the
  /// server when asked, fail its receiver, and close a drained connection.
  private func ended(_ callID: UInt32, _ sink: Sink, _ error: RPCError, sendCancel: Bool) {
    if sendCancel {
      channel.write { FrameEncoder.append(.cancel, callID: callID, payload: EmptyCollection(), to: &$0) }
    }
    Self.complete(sink, with: .failure(error))
    checkIdleAfterGoAway()
  }

  private static func complete(_ sink: Sink, with result: Result<[UInt8], RPCError>) {
    switch sink {
    case .unary(let continuation):
      continuation.resume(with: result.mapError { $0 })
    case .stream(let continuation):
      switch result {
      case .success: continuation.finish()
      case .failure(let error): continuation.finish(throwing: error)
      }
    }
  }

  // MARK: Reading

  func handleEvents(_ events: UInt32) {
    channel.loop.assertInEventLoop()
    if events & ga_epollout != 0 { channel.handleWritable() }
    guard events & (ga_epollin | ga_epollhup | ga_epollerr | ga_epollrdhup) != 0 else { return }
    let ended = reader.read(channel, target: target) { view throws(ProtocolViolation) in
      guard case .frame(let header, let payload) = view else { throw ProtocolViolation("oversized frame from server") }
      try handle(header, payload)
    }
    if let ended { return close(ended) }
    // Decrypted input left inside the TLS session: epoll will not report it.
    if channel.hasBufferedInput {
      channel.loop.executeUnchecked { [self] in handleEvents(ga_epollin) }
    }
  }

  /// A frame from the server, its payload in place (copied only where a call keeps it).
  private func handle(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer) throws(ProtocolViolation) {
    let callID = header.callID
    switch header.frameType! {
    case .message:
      let message = Array(payload)
      switch calls.withLock({ $0.receiveMessage(callID: callID, payload: message) }) {
      case .none:
        break
      case .yield(let sink):
        if case .stream(let continuation) = sink { continuation.yield(message) }
      case .failAndCancel(let sink, let error):
        ended(callID, sink, error, sendCancel: true)
      }
    case .trailers:
      let error = try ClientFrameReader.trailersError(payload)
      guard let (sink, outcome) = calls.withLock({ $0.receiveTrailers(callID: callID, error: error) }) else {
        return
      }
      Self.complete(sink, with: outcome)
      checkIdleAfterGoAway()
    case .ping:
      if !header.flags.contains(.ack) {
        channel.write { FrameEncoder.append(.ping, flags: .ack, callID: 0, payload: payload, to: &$0) }
      }
    case .goAway:
      let goAway = ClientFrameReader.goAway(payload)
      let refused = calls.withLock { $0.goAway(lastCallID: goAway.lastCallID, message: goAway.message) }
      let error = RPCError(.refusedByGoAway(message: goAway.message))
      for sink in refused { Self.complete(sink, with: .failure(error)) }
      onUnusable(self)
      checkIdleAfterGoAway()
    case .headers, .cancel:
      throw ProtocolViolation("\(header.frameType!) frames are sent by clients only")
    }
  }

  private func checkIdleAfterGoAway() {
    if calls.withLock({ $0.isDrained }) {
      channel.loop.executeUnchecked { [self] in close(.connectionLost(reason: "connection drained")) }
    }
  }

  /// Closes the connection and fails every call with `failure`. Any thread.
  func close(_ failure: TransportError) {
    guard channel.loop.inEventLoop else {
      channel.loop.executeUnchecked { [self] in close(failure) }
      return
    }
    // The server never spoke: it cannot have processed any call.
    let error = RPCError(reader.prefaceDone || failure.provesNotProcessed ? failure : .closedBeforePreface(reason: failure.description))
    let sinks = calls.withLock { $0.close(reason: error.message) }
    channel.close()
    for sink in sinks { Self.complete(sink, with: .failure(error)) }
    onUnusable(self)
  }
}

/// The call id of a call, once it has one, and whether it was cancelled first.
final class CallBox: @unchecked Sendable {
  private let state = LockedValue<(callID: UInt32?, endedEarly: RPCError?)>((nil, nil))

  /// The call's id, once it has one.
  var callID: UInt32? { state.withLock { $0.callID } }

  /// Gives the call its id; returns the error it ended with before, if any.
  func set(_ callID: UInt32) -> RPCError? {
    state.withLock { state in
      state.callID = callID
      return state.endedEarly
    }
  }

  /// Ends the call with `error`: returns its id, or records the error for
  /// `set` when it has none yet.
  func end(_ error: RPCError) -> UInt32? {
    state.withLock { state in
      if state.callID == nil && state.endedEarly == nil { state.endedEarly = error }
      return state.callID
    }
  }
}
