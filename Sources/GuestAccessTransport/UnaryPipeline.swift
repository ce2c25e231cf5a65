import GuestAccessCore
import GuestAccessProto
import GuestAccessWire

/// Decides when each slot of a `UnaryPipeline` makes its next call and takes
/// every call's outcome. Called on the pipeline's loop thread only, one call
/// at a time, so a driver needs no lock for state only these calls touch.
public protocol UnaryPipelineDriver: AnyObject {
  /// Whether `slot` makes another call now; false ends the slot.
  /// `now` is on the loops' clock (`EventLoop.now()`, nanoseconds).
  func shouldStart(slot: Int, now: UInt64) -> Bool
  /// A call ended.
  func ended(_ outcome: UnaryPipeline.Outcome)
  /// Every slot has ended and the pipeline closed its connection.
  func finished()
}

/// Keeps up to `depth` copies of one unary call in flight on a connection of
/// its own: each slot starts its next call from the completion of its last,
/// on the connection's loop thread, until its driver says stop. It is what a
/// load generator needs from a client, and nothing else: the request is
/// encoded once and each call copies it with its call id; calls live in a
/// fixed array of slots (no task, continuation, closure or lock per call);
/// frames are read in place and responses are counted, not copied; every
/// call started in one loop turn goes out in one `send`.
///
/// It behaves as the pooled client does towards the server and the caller:
/// it connects lazily (TLS as its transport says); calls wait for a
/// connection, and when an attempt fails they fail with its error, and the
/// next attempt waits for an exponential backoff (100 ms to 5 s); a GOAWAY
/// lets the calls it covers finish on the old connection, fails the others
/// with UNAVAILABLE (CALL_NOT_PROCESSED) and moves new calls to a new
/// connection; a lost connection fails its calls; a call past its timeout
/// fails with DEADLINE_EXCEEDED and is cancelled on the server; `close()`
/// fails what is in flight and ends every slot.
///
/// Responses are not kept: an outcome carries the response's size. A caller
/// that needs the messages makes ordinary calls.
public final class UnaryPipeline: @unchecked Sendable {
  /// The call every slot repeats.
  public struct Call: Sendable {
    /// The method path.
    public var path: String
    /// The request metadata.
    public var metadata: Metadata
    /// The encoded request message.
    public var request: [UInt8]
    /// Each call's timeout (nil: none).
    public var timeout: Duration?

    /// Creates a call.
    public init(path: String, metadata: Metadata, request: [UInt8], timeout: Duration?) {
      self.path = path
      self.metadata = metadata
      self.request = request
      self.timeout = timeout
    }
  }

  /// How one call ended.
  public struct Outcome: Sendable {
    /// The slot that made it.
    public let slot: Int
    /// When the slot started it (before it waited for a connection, if it
    /// did), on the loops' clock (`EventLoop.now()`, nanoseconds).
    public let began: UInt64
    /// When it ended, on the same clock.
    public let ended: UInt64
    /// Why it failed; nil when it succeeded.
    public let error: RPCError?
    /// The size of the response message (0 for a failed call).
    public let responseBytes: Int
  }

  private enum SlotState {
    /// Not started yet, or between calls.
    case idle
    /// Its call waits for a connection.
    case waiting
    /// Its call is on the connection numbered `generation`.
    case inFlight
    /// The driver ended it.
    case ended
  }

  private struct Slot {
    var state = SlotState.idle
    var callID: UInt32 = 0
    var generation: UInt32 = 0
    /// When the call started and when it times out, on the loops' clock.
    var began: UInt64 = 0
    var deadline: UInt64?
    /// The response's size once it arrived; -1 before.
    var responseBytes = -1
  }

  /// The number of slots.
  public let depth: Int
  /// The loop every call of the pipeline runs on.
  public let loop: EventLoop
  private let call: Call
  /// `call.timeout` in nanoseconds.
  private let timeoutNanos: UInt64?
  private let driver: any UnaryPipelineDriver
  private let connect: @Sendable (UnaryPipeline, UInt32) async throws -> PipelineConnection
  /// HEADERS and MESSAGE frames of one call, call ids zero (patched per call).
  private let template: [UInt8]
  /// Where the MESSAGE frame's header starts in `template`.
  private let messageOffset: Int
  private static let backoff = RetryPolicy(initialBackoff: .milliseconds(100), maxBackoff: .seconds(5))
  // Loop-thread state.
  @exclusivity(unchecked) private var slots: [Slot]
  @exclusivity(unchecked) private var endedSlots = 0
  private var current: PipelineConnection?
  /// Connections after GOAWAY whose remaining calls finish.
  private var draining: [PipelineConnection] = []
  private var generation: UInt32 = 0
  private var connecting: Task<Void, Never>?
  private var connectFailures = 0
  private var retryTimer: LoopTimer?
  private var deadlineTimer: LoopTimer?
  /// A call taken but not yet written.
  private struct PendingStart {
    var slot: Int
    var generation: UInt32
    var callID: UInt32
  }
  /// Calls started in this loop turn, written together by `flushStarts`;
  /// and the list being written (kept for its storage).
  @exclusivity(unchecked) private var pendingStarts: [PendingStart] = []
  @exclusivity(unchecked) private var flushing: [PendingStart] = []
  /// While expired calls are failed: their next calls do not arm the deadline timer.
  private var expiring = false
  /// While `flushStarts` runs.
  private var isFlushing = false
  private var closing = false
  private var started = false

  init(
    call: Call, depth: Int, loop: EventLoop, driver: any UnaryPipelineDriver,
    connect: @escaping @Sendable (UnaryPipeline, UInt32) async throws -> PipelineConnection
  ) {
    precondition(depth > 0, "a pipeline needs at least one slot")
    self.call = call
    timeoutNanos = call.timeout.map { $0.nanoseconds }
    self.depth = depth
    self.loop = loop
    self.driver = driver
    self.connect = connect
    slots = Array(repeating: Slot(), count: depth)
    var template: [UInt8] = []
    FrameEncoder.append(.headers, callID: 0, message: Self.headers(call, remainingNanos: timeoutNanos), to: &template)
    messageOffset = template.count
    FrameEncoder.append(.message, flags: .endStream, callID: 0, payload: call.request, to: &template)
    self.template = template
    pendingStarts.reserveCapacity(depth)
    flushing.reserveCapacity(depth)
  }

  private static func headers(_ call: Call, remainingNanos: UInt64?) -> CallHeaders {
    CallHeaders(method: call.path, metadata: call.metadata.entries, timeoutMicros: remainingNanos.map { max(1, $0 / 1000) } ?? 0)
  }

  /// Starts every slot (each asks the driver first). Any thread; once.
  public func start() {
    loop.executeUnchecked { [self] in
      guard !started else { return }
      started = true
      let now = EventLoop.now()
      for slot in 0..<depth { startSlot(slot, now: now) }
      flushStarts()
    }
  }

  /// Fails the calls in flight or waiting for a connection with
  /// `TransportError.clientClosed` (UNAVAILABLE), ends every slot and closes
  /// the connection; the driver hears `finished` once the last slot has
  /// ended. Any thread.
  public func close() {
    loop.executeUnchecked { [self] in
      guard !closing else { return }
      closing = true
      connecting?.cancel()
      retryTimer?.cancel()
      let now = EventLoop.now()
      let error = RPCError(.clientClosed)
      for slot in 0..<depth where slots[slot].state == .inFlight || slots[slot].state == .waiting {
        complete(slot, error: error, now: now)
      }
      for slot in 0..<depth where slots[slot].state == .idle { endSlot(slot) }
      flushStarts()
    }
  }

  // MARK: Slots

  /// Starts `slot`'s next call if the driver wants one: on the current
  /// connection (written at the end of the turn), or waiting for one.
  private func startSlot(_ slot: Int, now: UInt64) {
    guard !closing, driver.shouldStart(slot: slot, now: now) else { return endSlot(slot) }
    slots[slot].began = now
    slots[slot].deadline = timeoutNanos.map { now + $0 }
    slots[slot].responseBytes = -1
    if let deadline = slots[slot].deadline, deadlineTimer == nil, !expiring { armDeadline(deadline) }
    if let current, current.isUsable {
      send(slot, on: current)
    } else {
      slots[slot].state = .waiting
      connectIfNeeded()
    }
  }

  private func send(_ slot: Int, on connection: PipelineConnection) {
    slots[slot].state = .inFlight
    slots[slot].generation = connection.generation
    let callID = connection.takeCallID(for: slot)
    slots[slot].callID = callID
    pendingStarts.append(PendingStart(slot: slot, generation: connection.generation, callID: callID))
  }

  private func endSlot(_ slot: Int) {
    guard slots[slot].state != .ended else { return }
    slots[slot].state = .ended
    endedSlots += 1
    if endedSlots == depth { finish() }
  }

  /// Ends `slot`'s call with `error` (nil: OK) and starts its next.
  private func complete(_ slot: Int, error: RPCError?, now: UInt64) {
    let bytes = slots[slot].responseBytes
    slots[slot].state = .idle
    slots[slot].callID = 0
    driver.ended(
      Outcome(slot: slot, began: slots[slot].began, ended: now, error: error, responseBytes: error == nil ? max(0, bytes) : 0))
    startSlot(slot, now: now)
  }

  /// Writes the calls started in this turn, each on its connection, in the
  /// order their ids were taken: one write per connection and turn. Loop thread.
  func flushStarts() {
    // A write that fails ends its connection, whose failed calls may start
    // again: the loop below sends those too, so a nested call leaves them to it.
    guard !isFlushing else { return }
    isFlushing = true
    defer { isFlushing = false }
    while !pendingStarts.isEmpty {
      swap(&pendingStarts, &flushing)
      let now = EventLoop.now()
      var index = 0
      while index < flushing.count {
        let generation = flushing[index].generation
        guard let connection = connection(generation) else {
          // Its connection ended after the call took its id; the ending failed the call.
          index += 1
          continue
        }
        let written = connection.channel.write { buffer in
          while index < flushing.count, flushing[index].generation == generation {
            let start = flushing[index]
            // A call failed since (its connection ended) is not sent.
            if slots[start.slot].state == .inFlight, slots[start.slot].callID == start.callID, slots[start.slot].generation == generation {
              append(start.slot, to: &buffer, now: now)
            }
            index += 1
          }
        }
        if !written { connectionEnded(connection, .connectionLost(reason: "connection to \(connection.target) closed")) }
      }
      flushing.removeAll(keepingCapacity: true)
    }
  }

  private func append(_ slot: Int, to buffer: inout [UInt8], now: UInt64) {
    let callID = slots[slot].callID
    let start = buffer.count
    if let deadline = slots[slot].deadline, slots[slot].began != now {
      // It waited for a connection: the server gets the time left, not the whole timeout.
      FrameEncoder.append(
        .headers, callID: callID, message: Self.headers(call, remainingNanos: deadline > now ? deadline - now : 0), to: &buffer)
      FrameEncoder.append(.message, flags: .endStream, callID: callID, payload: call.request, to: &buffer)
      return
    }
    buffer.append(contentsOf: template)
    Self.patch(callID, at: start + 8, in: &buffer)
    Self.patch(callID, at: start + messageOffset + 8, in: &buffer)
  }

  private static func patch(_ callID: UInt32, at offset: Int, in buffer: inout [UInt8]) {
    buffer[offset] = UInt8(truncatingIfNeeded: callID >> 24)
    buffer[offset + 1] = UInt8(truncatingIfNeeded: callID >> 16)
    buffer[offset + 2] = UInt8(truncatingIfNeeded: callID >> 8)
    buffer[offset + 3] = UInt8(truncatingIfNeeded: callID)
  }

  private func connection(_ generation: UInt32) -> PipelineConnection? {
    if let current, current.generation == generation { return current }
    return draining.first { $0.generation == generation }
  }

  /// The slot whose call `callID` on `connection` is, if it is still in flight.
  private func slot(of callID: UInt32, on connection: PipelineConnection) -> Int? {
    let hint = connection.slotHint(callID)
    if hint >= 0, slots[hint].callID == callID, slots[hint].generation == connection.generation, slots[hint].state == .inFlight {
      return hint
    }
    return slots.firstIndex { $0.state == .inFlight && $0.callID == callID && $0.generation == connection.generation }
  }

  // MARK: Frames

  /// A frame from `connection`'s server. Loop thread.
  func handle(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer, on connection: PipelineConnection) throws(ProtocolViolation) {
    let callID = header.callID
    switch header.frameType! {
    case .message:
      guard let slot = slot(of: callID, on: connection) else { return }
      guard slots[slot].responseBytes < 0 else {
        cancel(callID, on: connection)
        return finishCall(slot, on: connection, error: RPCError(code: .internalError, message: "server sent two messages for a unary call"))
      }
      slots[slot].responseBytes = payload.count
    case .trailers:
      var error = try ClientFrameReader.trailersError(payload)
      guard let slot = slot(of: callID, on: connection) else { return }
      if error == nil && slots[slot].responseBytes < 0 {
        error = RPCError(code: .internalError, message: "unary call ended without a response")
      }
      finishCall(slot, on: connection, error: error)
    case .ping:
      if !header.flags.contains(.ack) {
        _ = connection.channel.write { FrameEncoder.append(.ping, flags: .ack, callID: 0, payload: payload, to: &$0) }
      }
    case .goAway:
      receiveGoAway(ClientFrameReader.goAway(payload), on: connection)
    case .headers, .cancel:
      throw ProtocolViolation("\(header.frameType!) frames are sent by clients only")
    }
  }

  private func finishCall(_ slot: Int, on connection: PipelineConnection, error: RPCError?) {
    connection.inFlight -= 1
    complete(slot, error: error, now: EventLoop.now())
    if connection.lastCallID != nil && connection.inFlight == 0 { retire(connection) }
  }

  private func cancel(_ callID: UInt32, on connection: PipelineConnection) {
    _ = connection.channel.write { FrameEncoder.append(.cancel, callID: callID, payload: EmptyCollection(), to: &$0) }
  }

  private func receiveGoAway(_ goAway: GoAway, on connection: PipelineConnection) {
    let last = connection.goAway(lastCallID: goAway.lastCallID)
    if connection === current {
      current = nil
      draining.append(connection)
    }
    let error = RPCError(.refusedByGoAway(message: goAway.message))
    let now = EventLoop.now()
    // Calls not yet written go to the next connection; written ones above `last` were refused.
    pendingStarts.removeAll { start in
      guard start.generation == connection.generation else { return false }
      connection.inFlight -= 1
      slots[start.slot].state = .waiting
      return true
    }
    for slot in 0..<depth
    where slots[slot].state == .inFlight && slots[slot].generation == connection.generation && slots[slot].callID > last {
      connection.inFlight -= 1
      complete(slot, error: error, now: now)
    }
    if slots.contains(where: { $0.state == .waiting }) { connectIfNeeded() }
    if connection.inFlight == 0 { retire(connection) }
  }

  /// Closes a connection that has nothing left to do.
  private func retire(_ connection: PipelineConnection) {
    connection.close()
    draining.removeAll { $0 === connection }
    if connection === current { current = nil }
  }

  /// `connection` ended (lost, broken by the server, write failed): its calls fail. Loop thread.
  func connectionEnded(_ connection: PipelineConnection, _ failure: TransportError) {
    guard !connection.isClosed else { return }
    retire(connection)
    // The server never spoke: it cannot have processed any call.
    let error = RPCError(connection.serverSpoke || failure.provesNotProcessed ? failure : .closedBeforePreface(reason: failure.description))
    pendingStarts.removeAll { $0.generation == connection.generation }
    let now = EventLoop.now()
    for slot in 0..<depth where slots[slot].state == .inFlight && slots[slot].generation == connection.generation {
      complete(slot, error: error, now: now)
    }
    flushStarts()
  }

  // MARK: Connecting

  /// The slots whose calls wait for a connection, in slot order (taken
  /// before they are served: a slot served may wait again).
  private var waitingSlots: [Int] { slots.indices.filter { slots[$0].state == .waiting } }

  private func connectIfNeeded() {
    guard !closing, connecting == nil, retryTimer == nil, current == nil else { return }
    generation += 1
    let generation = generation
    connecting = Task { [self] in
      do {
        let connection = try await connect(self, generation)
        // `activate` (on the loop) hands it over through `connected`.
        _ = connection
      } catch {
        let failure = error as? RPCError ?? RPCError(code: .unavailable, message: "\(error)")
        loop.executeUnchecked { [self] in connectFailed(failure) }
      }
    }
  }

  /// A new connection is ready (from `PipelineConnection.activate`): the waiting calls go on it. Loop thread.
  func connected(_ connection: PipelineConnection) {
    connecting = nil
    guard !closing else { return connection.close() }
    connectFailures = 0
    current = connection
    let ready = waitingSlots
    let now = EventLoop.now()
    let expired = RPCError(code: .deadlineExceeded, message: "deadline exceeded")
    for slot in ready {
      // A call whose time ran out while it waited is not sent with no time left.
      if let deadline = slots[slot].deadline, deadline <= now {
        complete(slot, error: expired, now: now)
      } else {
        send(slot, on: connection)
      }
    }
    flushStarts()
  }

  private func connectFailed(_ error: RPCError) {
    connecting = nil
    guard !closing else { return }
    connectFailures += 1
    retryTimer = loop.schedule(atNanos: EventLoop.now() + Self.backoff.backoff(beforeRetry: connectFailures).nanoseconds) { [self] in
      retryTimer = nil
      if slots.contains(where: { $0.state == .waiting }) { connectIfNeeded() }
    }
    // Each waiting call fails with the attempt's error; the ones started again wait for the next attempt.
    let failed = waitingSlots
    let now = EventLoop.now()
    for slot in failed { complete(slot, error: error, now: now) }
  }

  // MARK: Deadlines

  private func armDeadline(_ deadline: UInt64) {
    deadlineTimer = loop.schedule(atNanos: deadline) { [self] in
      deadlineTimer = nil
      expireCalls()
    }
  }

  /// Fails every call past its deadline (cancelling it on the server) and
  /// arms the timer for the next deadline.
  private func expireCalls() {
    let now = EventLoop.now()
    let error = RPCError(code: .deadlineExceeded, message: "deadline exceeded")
    expiring = true
    defer { expiring = false }
    for slot in 0..<depth {
      guard let deadline = slots[slot].deadline, deadline <= now else { continue }
      switch slots[slot].state {
      case .inFlight:
        if let connection = connection(slots[slot].generation) {
          cancel(slots[slot].callID, on: connection)
          finishCall(slot, on: connection, error: error)
        } else {
          complete(slot, error: error, now: now)
        }
      case .waiting:
        complete(slot, error: error, now: now)
      case .idle, .ended:
        break
      }
    }
    flushStarts()
    expiring = false
    let next = slots.lazy.filter { $0.state == .inFlight || $0.state == .waiting }.compactMap(\.deadline).min()
    if let next, deadlineTimer == nil { armDeadline(next) }
  }

  // MARK: End

  private func finish() {
    deadlineTimer?.cancel()
    deadlineTimer = nil
    retryTimer?.cancel()
    retryTimer = nil
    connecting?.cancel()
    for connection in draining { connection.close() }
    draining.removeAll()
    current?.close()
    current = nil
    driver.finished()
  }
}
