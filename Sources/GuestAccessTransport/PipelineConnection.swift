import CGuestAccessPosix
import GuestAccessCore
import GuestAccessTLS
import GuestAccessWire

/// One connection of a `UnaryPipeline`: its socket, its reader, the call ids
/// it handed out, and where each call's slot is. The pipeline owns it and
/// does everything on the connection's loop thread.
final class PipelineConnection: EventLoopHandler, ConnectingConnection, @unchecked Sendable {
  let channel: SocketChannel
  let target: String
  /// Numbers the pipeline's connections, so a slot knows which one its call is on.
  let generation: UInt32
  /// Held strongly: a frame being handled keeps the pipeline alive even when
  /// its owner let go of it as its last slot ended.
  private let pipeline: UnaryPipeline
  // Loop-thread state.
  @exclusivity(unchecked) private(set) var reader = ClientFrameReader()
  /// The next call id (ids go up by one in the order calls are written).
  @exclusivity(unchecked) private(set) var nextCallID: UInt32 = 1
  /// The GOAWAY's last call id, once the server sent one: no new calls.
  private(set) var lastCallID: UInt32?
  /// Calls in flight on this connection.
  @exclusivity(unchecked) var inFlight = 0
  /// Whether the connection was closed.
  private(set) var isClosed = false
  /// Whether its input is being read (a close then waits for the read to end).
  private var reading = false
  /// The slot of a call by `callID & slotMask` (a hint: the slot is checked,
  /// and searched for when another call took the entry).
  @exclusivity(unchecked) private var slotOfCall: [Int32]
  private let slotMask: UInt32

  init(fd: Int32, loop: EventLoop, target: String, tls: TLSSession?, generation: UInt32, depth: Int, pipeline: UnaryPipeline) {
    channel = SocketChannel(fd: fd, loop: loop, tls: tls)
    self.target = target
    self.generation = generation
    self.pipeline = pipeline
    var size = 64
    while size < depth * 4 { size <<= 1 }
    slotOfCall = Array(repeating: -1, count: size)
    slotMask = UInt32(size - 1)
  }

  /// Whether new calls may be written here.
  var isUsable: Bool { !isClosed && lastCallID == nil && nextCallID < UInt32.max }

  /// Whether the server has spoken (its preface arrived).
  var serverSpoke: Bool { reader.prefaceDone }

  func activate() {
    channel.loop.assertInEventLoop()
    _ = channel.register(events: channel.initialInterest, handler: self)
    channel.write { $0.append(contentsOf: Preface.bytes) }
    pipeline.connected(self)
  }

  /// A new call id for `slot`.
  func takeCallID(for slot: Int) -> UInt32 {
    let callID = nextCallID
    nextCallID += 1
    slotOfCall[Int(callID & slotMask)] = Int32(slot)
    inFlight += 1
    return callID
  }

  /// The slot `callID` was given to, as the table remembers it (to be checked by the caller).
  func slotHint(_ callID: UInt32) -> Int {
    Int(slotOfCall[Int(callID & slotMask)])
  }

  /// Records the server's GOAWAY; returns the last call id it lets finish.
  func goAway(lastCallID last: UInt32) -> UInt32 {
    let last = min(last, lastCallID ?? last)
    lastCallID = last
    return last
  }

  func handleEvents(_ events: UInt32) {
    channel.loop.assertInEventLoop()
    if events & ga_epollout != 0 { channel.handleWritable() }
    guard !isClosed, events & (ga_epollin | ga_epollhup | ga_epollerr | ga_epollrdhup) != 0 else { return }
    reading = true
    let ended = reader.read(channel, target: target) { view throws(ProtocolViolation) in
      guard !isClosed else { return }
      guard case .frame(let header, let payload) = view else { throw ProtocolViolation("oversized frame from server") }
      try pipeline.handle(header, payload, on: self)
    }
    reading = false
    pipeline.flushStarts()
    if isClosed {
      channel.close()
      return
    }
    if let ended { return pipeline.connectionEnded(self, ended) }
    // Decrypted input left inside the TLS session: epoll will not report it.
    if channel.hasBufferedInput {
      channel.loop.executeUnchecked { [self] in handleEvents(ga_epollin) }
    }
  }

  /// Closes the socket (once the read in progress, if any, is over). Loop thread.
  func close() {
    guard !isClosed else { return }
    isClosed = true
    if !reading { channel.close() }
  }
}
