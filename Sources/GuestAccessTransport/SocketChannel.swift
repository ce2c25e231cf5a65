import CGuestAccessPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The socket of one connection: serialized writes from any thread (a lock
/// around a buffer, written directly while the socket accepts data and by the
/// loop on writability otherwise), the epoll interest, and the close.
final class SocketChannel: @unchecked Sendable {
  private struct State {
    var buffer: [UInt8] = []
    var start = 0
    var waitingWritable = false
    var readPaused = false
    var closed = false
    var spaceWaiters: [CheckedContinuation<Void, any Error>] = []
  }

  let fd: Int32
  let loop: EventLoop
  private let state = Mutex(State())
  /// Above this many unsent bytes, streaming writers wait.
  static let highWater = 1 << 20
  /// Above this many unsent bytes, the connection stops reading requests.
  static let readPauseWater = 8 << 20

  init(fd: Int32, loop: EventLoop) {
    self.fd = fd
    self.loop = loop
  }

  /// The epoll interest for the current state.
  private static func interest(_ state: State) -> UInt32 {
    (state.readPaused ? 0 : ga_epollin) | (state.waitingWritable ? ga_epollout : 0) | ga_epollrdhup
  }

  /// The initial epoll interest.
  var initialInterest: UInt32 { ga_epollin | ga_epollrdhup }

  /// Whether the socket was closed.
  var isClosed: Bool { state.withLock { $0.closed } }

  /// Unsent bytes.
  var pendingBytes: Int { state.withLock { $0.buffer.count - $0.start } }

  /// Appends frames with `build` and sends what the socket takes now.
  /// Returns false when the socket is closed (nothing is written) or failed.
  @discardableResult
  func write(_ build: (inout [UInt8]) -> Void) -> Bool {
    state.withLock { state -> Bool in
      guard !state.closed else { return false }
      build(&state.buffer)
      if !state.waitingWritable { flush(&state) }
      return !state.closed
    }
  }

  private func flush(_ state: inout State) {
    while state.start < state.buffer.count {
      let sent = state.buffer.withUnsafeBytes { raw in
        ga_send(fd, raw.baseAddress! + state.start, raw.count - state.start)
      }
      if sent > 0 {
        state.start += sent
        continue
      }
      let error = ga_errno()
      if sent < 0 && (error == EAGAIN || error == EWOULDBLOCK) {
        if !state.waitingWritable {
          state.waitingWritable = true
          loop.modify(fd: fd, events: Self.interest(state))
        }
        if state.buffer.count - state.start > Self.readPauseWater && !state.readPaused {
          state.readPaused = true
          loop.modify(fd: fd, events: Self.interest(state))
        }
        return
      }
      // The peer is gone (EPIPE, ECONNRESET...): drop what is unsent.
      state.buffer.removeAll()
      state.start = 0
      failWaiters(&state)
      return
    }
    state.buffer.removeAll(keepingCapacity: state.buffer.capacity <= 1 << 20)
    state.start = 0
    if state.waitingWritable {
      state.waitingWritable = false
      state.readPaused = false
      loop.modify(fd: fd, events: Self.interest(state))
    }
    let waiters = state.spaceWaiters
    state.spaceWaiters.removeAll()
    for waiter in waiters { waiter.resume() }
  }

  private func failWaiters(_ state: inout State) {
    let waiters = state.spaceWaiters
    state.spaceWaiters.removeAll()
    for waiter in waiters { waiter.resume(throwing: CancellationError()) }
  }

  /// Called by the loop when the socket became writable.
  func handleWritable() {
    state.withLock { state in
      guard !state.closed else { return }
      flush(&state)
    }
  }

  /// Suspends while more than `highWater` bytes wait to be sent.
  func waitForSpace() async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      state.withLock { state in
        if state.closed {
          continuation.resume(throwing: CancellationError())
        } else if state.buffer.count - state.start <= Self.highWater {
          continuation.resume()
        } else {
          state.spaceWaiters.append(continuation)
        }
      }
    }
  }

  /// Receives into `buffer`; returns bytes read, 0 at end of stream, -1 for
  /// "try later", -2 for an error.
  func receive(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
    let received = ga_recv(fd, buffer.baseAddress, buffer.count)
    if received >= 0 { return received }
    let error = ga_errno()
    return error == EAGAIN || error == EWOULDBLOCK ? -1 : -2
  }

  /// Closes the socket once; returns false if it already was. Loop thread only.
  @discardableResult
  func close() -> Bool {
    state.withLock { state -> Bool in
      guard !state.closed else { return false }
      state.closed = true
      loop.deregister(fd: fd)
      Glibc.close(fd)
      state.buffer.removeAll()
      failWaiters(&state)
      return true
    }
  }
}
