import GuestAccessCore
import GuestAccessProto
import GuestAccessWire
import Synchronization

/// The response side of one call on a TCP connection.
final class TCPServerResponder: ServerCallResponder, @unchecked Sendable {
  private struct State {
    var finished = false
    var cancelled = false
    var cancelHandlers: [@Sendable () -> Void] = []
  }

  let callID: UInt32
  private let connection: ServerConnection
  private let channel: SocketChannel
  private let state = Mutex(State())

  init(callID: UInt32, connection: ServerConnection, channel: SocketChannel) {
    self.callID = callID
    self.connection = connection
    self.channel = channel
  }

  func send(_ message: [UInt8]) async throws {
    if state.withLock({ $0.finished }) {
      throw RPCError(code: .cancelled, message: "call already ended")
    }
    let ok = channel.write { FrameEncoder.append(.message, callID: callID, payload: message, to: &$0) }
    guard ok else { throw RPCError(code: .unavailable, message: "connection closed") }
    if channel.pendingBytes > SocketChannel.highWater {
      try await channel.waitForSpace()
    }
  }

  func finish(message: [UInt8]?, trailers: Trailers) {
    let first = state.withLock { state -> Bool in
      guard !state.finished else { return false }
      state.finished = true
      state.cancelHandlers.removeAll()
      return true
    }
    guard first else { return }
    channel.write { buffer in
      if let message { FrameEncoder.append(.message, callID: callID, payload: message, to: &buffer) }
      FrameEncoder.append(.trailers, callID: callID, message: trailers, to: &buffer)
    }
    connection.callEnded(callID)
  }

  func abort(_ trailers: Trailers) {
    let handlers = state.withLock { state -> [@Sendable () -> Void]? in
      guard !state.finished else { return nil }
      state.finished = true
      state.cancelled = true
      let handlers = state.cancelHandlers
      state.cancelHandlers.removeAll()
      return handlers
    }
    guard let handlers else { return }
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
    let handlers = state.withLock { state -> [@Sendable () -> Void] in
      guard !state.finished else { return [] }
      state.finished = true
      state.cancelled = true
      let handlers = state.cancelHandlers
      state.cancelHandlers.removeAll()
      return handlers
    }
    for handler in handlers { handler() }
  }
}
