import CGuestAccessPosix
import GuestAccessLocks

#if canImport(Glibc)
import Glibc
#endif

/// The socket of one connection: serialized writes from any thread (a lock
/// around a buffer, written directly while the socket accepts data and by the
/// loop on writability otherwise), the epoll interest, and the close.
///
/// Back-pressure: above `highWater` unsent bytes, streaming writers wait
/// (`waitForSpace`); above `readPauseWater`, the connection stops reading, so
/// a peer that sends requests but never reads responses cannot make the
/// server buffer without bound. A server connection can also hold reading
/// for reasons of its own (`holdReading`), and count its queued bytes in a
/// shared `MemoryBudget`.
final class SocketChannel: @unchecked Sendable {
  private struct State {
    var buffer: [UInt8] = []
    var start = 0
    var waitingWritable = false
    var readPaused = false
    var readHeld = false
    /// Bytes of `buffer` counted in the budget.
    var accounted = 0
    /// Bytes sent since the channel opened.
    var sent: UInt64 = 0
    var outputShut = false
    var closed = false
    var spaceWaiters: [CheckedContinuation<Void, any Error>] = []
  }

  let fd: Int32
  let loop: EventLoop
  /// Where the write buffer's bytes are counted, if anywhere.
  let budget: MemoryBudget?
  private let state = LockedValue(State())
  /// Above this many unsent bytes, streaming writers wait.
  static let highWater = 1 << 20
  /// Above this many unsent bytes, the connection stops reading requests.
  static let readPauseWater = 8 << 20
  /// Write-buffer capacity kept once everything is sent; a larger buffer is freed.
  static let retainedCapacity = 16 << 10

  /// Run on the loop when reading resumes after a pause (set once, before use).
  var onReadResumed: (() -> Void)?

  init(fd: Int32, loop: EventLoop, budget: MemoryBudget? = nil) {
    self.fd = fd
    self.loop = loop
    self.budget = budget
  }

  /// The epoll interest for the current state. While reading is paused only
  /// the peer's end of stream (RDHUP) is watched on the read side: it ends
  /// the connection, so it cannot make the level-triggered loop spin.
  private static func interest(_ state: State) -> UInt32 {
    (state.readPaused || state.readHeld ? 0 : ga_epollin) | ga_epollrdhup | (state.waitingWritable ? ga_epollout : 0)
  }

  /// The initial epoll interest.
  var initialInterest: UInt32 { ga_epollin | ga_epollrdhup }

  /// Whether the socket was closed.
  var isClosed: Bool { state.withLock { $0.closed } }

  /// Unsent bytes.
  var pendingBytes: Int { state.withLock { $0.buffer.count - $0.start } }

  /// Whether reading is paused because too much output is unsent.
  var isReadPaused: Bool { state.withLock { $0.readPaused } }

  /// Whether reading is held by `holdReading`.
  var isReadHeld: Bool { state.withLock { $0.readHeld } }

  /// Bytes sent since the channel opened.
  var bytesSent: UInt64 { state.withLock { $0.sent } }

  /// Stops (or resumes) watching the socket for requests, whatever the
  /// output; the peer's end of stream is still seen. Loop thread.
  func holdReading(_ hold: Bool) {
    state.withLock { state in
      guard state.readHeld != hold, !state.closed else { return }
      state.readHeld = hold
      loop.modify(fd: fd, events: Self.interest(state))
    }
  }

  /// Counts the buffer's size change in the budget.
  private func settle(_ state: inout State) {
    guard let budget else { return }
    budget.add(state.buffer.count - state.accounted)
    state.accounted = state.buffer.count
  }

  /// Appends frames with `build` and sends what the socket takes now.
  /// Returns false when the socket is closed or its output shut (nothing is written).
  @discardableResult
  func write(_ build: (inout [UInt8]) -> Void) -> Bool {
    state.withLock { state -> Bool in
      guard !state.closed, !state.outputShut else { return false }
      build(&state.buffer)
      if state.waitingWritable {
        pauseReadingIfNeeded(&state)
      } else {
        flush(&state)
      }
      settle(&state)
      return !state.closed
    }
  }

  private func pauseReadingIfNeeded(_ state: inout State) {
    if state.buffer.count - state.start > Self.readPauseWater && !state.readPaused {
      state.readPaused = true
      loop.modify(fd: fd, events: Self.interest(state))
    }
  }

  private func flush(_ state: inout State) {
    while state.start < state.buffer.count {
      let sent = state.buffer.withUnsafeBytes { raw in
        ga_send(fd, raw.baseAddress! + state.start, raw.count - state.start)
      }
      if sent > 0 {
        state.start += sent
        state.sent += UInt64(sent)
        continue
      }
      let error = ga_errno()
      if sent < 0 && (error == EAGAIN || error == EWOULDBLOCK) {
        if !state.waitingWritable {
          state.waitingWritable = true
          loop.modify(fd: fd, events: Self.interest(state))
        }
        pauseReadingIfNeeded(&state)
        return
      }
      // The peer is gone (EPIPE, ECONNRESET...): drop what is unsent. The
      // loop sees the error on the socket and closes the connection.
      state.buffer = []
      state.start = 0
      failWaiters(&state)
      return
    }
    state.buffer.removeAll(keepingCapacity: state.buffer.capacity <= Self.retainedCapacity)
    state.start = 0
    if state.waitingWritable {
      state.waitingWritable = false
      let resumed = state.readPaused
      state.readPaused = false
      loop.modify(fd: fd, events: Self.interest(state))
      if resumed, let onReadResumed { loop.executeUnchecked(onReadResumed) }
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
      settle(&state)
    }
  }

  /// Suspends while more than `highWater` bytes wait to be sent.
  func waitForSpace() async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      state.withLock { state in
        if state.closed || state.outputShut {
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
  /// "try later", -2 for an error. Loop thread only.
  func receive(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
    let received = ga_recv(fd, buffer.baseAddress, buffer.count)
    if received >= 0 { return received }
    let error = ga_errno()
    return error == EAGAIN || error == EWOULDBLOCK ? -1 : -2
  }

  /// Sends end of stream after the bytes already written, if they are all
  /// sent; returns false (and does nothing) when output is still buffered.
  /// Later writes are refused. Loop thread only.
  @discardableResult
  func shutdownOutput() -> Bool {
    state.withLock { state -> Bool in
      guard !state.closed, state.start == state.buffer.count else { return false }
      state.outputShut = true
      state.buffer = []
      state.start = 0
      settle(&state)
      failWaiters(&state)
      _ = ga_shutdown_write(fd)
      return true
    }
  }

  /// Closes the socket once; returns false if it already was. Loop thread only.
  @discardableResult
  func close() -> Bool {
    state.withLock { state -> Bool in
      guard !state.closed else { return false }
      state.closed = true
      loop.deregister(fd: fd)
      Glibc.close(fd)
      state.buffer = []
      state.start = 0
      settle(&state)
      failWaiters(&state)
      return true
    }
  }
}
