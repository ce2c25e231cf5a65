import GuestAccessCore
import GuestAccessLocks
import GuestAccessProto
import GuestAccessWire

/// The response side of one call on a TCP connection.
final class TCPServerResponder: ServerCallResponder, @unchecked Sendable {
  private struct State {
    var finished = false
    var cancelled = false
    var cancelHandlers: [@Sendable () -> Void] = []
    var deadlineTimer: LoopTimer?

    /// The deadline timer, if armed, for the caller to cancel outside the lock
    /// (once a call ends, nothing re-arms it: `armDeadline` checks `finished`).
    mutating func takeTimer() -> LoopTimer? {
      defer { deadlineTimer = nil }
      return deadlineTimer
    }
  }

  private static let ok = Trailers()

  let callID: UInt32
  private let connection: ServerConnection
  private let channel: SocketChannel
  private let state = LockedValue(State())

  init(callID: UInt32, connection: ServerConnection, channel: SocketChannel) {
    self.callID = callID
    self.connection = connection
    self.channel = channel
  }

  /// The connection's loop ends the call at its deadline.
  var enforcesDeadline: Bool { true }

  func connectionAuthenticated() {
    connection.markAuthenticated()
  }

  /// Arms the deadline: at `deadline` the call is aborted with DEADLINE_EXCEEDED.
  func armDeadline(_ deadline: ContinuousClock.Instant, on loop: EventLoop) {
    let timer = loop.schedule(at: deadline) { [self] in
      abort(RPCError(code: .deadlineExceeded, message: "deadline exceeded").trailers)
    }
    let keep = state.withLock { state -> Bool in
      guard !state.finished else { return false }
      state.deadlineTimer = timer
      return true
    }
    if !keep { timer.cancel() }
  }

  func send(_ message: [UInt8]) async throws {
    if state.withLock({ $0.finished }) {
      throw RPCError(code: .cancelled, message: "call already ended")
    }
    let ok = channel.write { FrameEncoder.append(.message, callID: callID, payload: message, to: &$0) }
    guard ok else { throw RPCError(code: .unavailable, message: "connection closed") }
    if channel.pendingBytes > SocketChannel.highWater {
      try await channel.waitForSpace()
    } else {
      // A handler streaming into a fast reader never has to wait for space;
      // yield so the loop it runs on still reads its sockets (CANCEL frames,
      // other connections) between messages.
      await Task.yield()
    }
  }

  func finish(message: [UInt8]?, trailers: Trailers) {
    let (first, timer) = state.withLock { state -> (Bool, LoopTimer?) in
      guard !state.finished else { return (false, nil) }
      state.finished = true
      state.cancelHandlers.removeAll()
      return (true, state.takeTimer())
    }
    guard first else { return }
    timer?.cancel()
    channel.write { buffer in
      if let message { FrameEncoder.append(.message, callID: callID, payload: message, to: &buffer) }
      if trailers == Self.ok {
        // The common case: OK with nothing else encodes to an empty payload.
        FrameEncoder.append(.trailers, callID: callID, payload: EmptyCollection(), to: &buffer)
      } else {
        FrameEncoder.append(.trailers, callID: callID, message: trailers, to: &buffer)
      }
    }
    connection.callEnded(callID)
  }

  func abort(_ trailers: Trailers) {
    let ended = state.withLock { state -> (handlers: [@Sendable () -> Void], timer: LoopTimer?)? in
      guard !state.finished else { return nil }
      state.finished = true
      state.cancelled = true
      let handlers = state.cancelHandlers
      state.cancelHandlers.removeAll()
      return (handlers, state.takeTimer())
    }
    guard let (handlers, timer) = ended else { return }
    timer?.cancel()
    channel.write { FrameEncoder.append(.trailers, callID: callID, message: trailers, to: &$0) }
    connection.callEnded(callID)
    for handler in handlers { handler() }
  }

  func onCancel(_ handler: @escaping @Sendable () -> Void) {
    let runNow = state.withLock { state -> Bool in
      if state.cancelled { return true }
      if state.finished { return false }
      state.cancelHandlers.append(handler)
      return false
    }
    if runNow { handler() }
  }

  /// The peer cancelled the call or the connection was lost: no trailers are sent.
  func cancelFromPeer() {
    let (handlers, timer) = state.withLock { state -> ([@Sendable () -> Void], LoopTimer?) in
      let timer = state.takeTimer()
      guard !state.finished else { return ([], timer) }
      state.finished = true
      state.cancelled = true
      let handlers = state.cancelHandlers
      state.cancelHandlers.removeAll()
      return (handlers, timer)
    }
    timer?.cancel()
    for handler in handlers { handler() }
  }
}
