import CGuestAccessPosix
import GuestAccessCore
import Logging
import GuestAccessWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The RPC server transport over TCP: a listening socket and connections
/// spread over event loops (see docs/ARCHITECTURE.md).
public final class TCPServerTransport: ServerTransport, @unchecked Sendable {
  private struct State {
    var listening = false
    var stopped = false
    var draining = false
    var connectionCount = 0
    var finished: CheckedContinuation<Void, any Error>?
    var boundPort: Int?
    var portWaiters: [CheckedContinuation<Int, any Error>] = []
  }

  /// The configuration.
  public let configuration: TCPServerConfiguration
  private let group: EventLoopGroup
  private let ownsGroup: Bool
  private let logger: Logger
  private let state = Mutex(State())
  private var listener: Listener?
  /// Connections per loop (each dictionary touched only on its loop).
  private var connections: [[ObjectIdentifier: ServerConnection]]

  /// Creates a transport; it listens when `serve` runs.
  public init(configuration: TCPServerConfiguration, group: EventLoopGroup? = nil, logger: Logger = Logger(label: "guestaccess.transport")) {
    self.configuration = configuration
    self.group = group ?? EventLoopGroup(count: configuration.loopCount, name: "ga-server")
    ownsGroup = group == nil
    self.logger = logger
    connections = Array(repeating: [:], count: self.group.loops.count)
  }

  /// The port the transport listens on, once listening (waits for it).
  public func listeningPort() async throws -> Int {
    try await withCheckedThrowingContinuation { continuation in
      state.withLock { state in
        if let port = state.boundPort { continuation.resume(returning: port) }
        else if state.stopped { continuation.resume(throwing: RPCError(code: .unavailable, message: "transport stopped")) }
        else { state.portWaiters.append(continuation) }
      }
    }
  }

  /// Open connections now.
  public var connectionCount: Int { state.withLock { $0.connectionCount } }

  public func serve(dispatcher: any ServerCallDispatcher) async throws {
    var boundPort: Int32 = 0
    let fd = ga_listen(configuration.host, Int32(configuration.port), 4096, &boundPort)
    guard fd >= 0 else {
      let error = RPCError(code: .unavailable, message: "cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(ga_errno())))")
      let waiters = state.withLock { state -> [CheckedContinuation<Int, any Error>] in
        state.stopped = true
        defer { state.portWaiters.removeAll() }
        return state.portWaiters
      }
      for waiter in waiters { waiter.resume(throwing: error) }
      throw error
    }
    let acceptLoop = group.loops[0]
    let listener = Listener(fd: fd, loop: acceptLoop) { [self] client, peer in accepted(client, peer: peer, dispatcher: dispatcher) }
    self.listener = listener
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      let (waiters, stoppedEarly) = state.withLock { state -> ([CheckedContinuation<Int, any Error>], Bool) in
        state.finished = continuation
        state.listening = true
        state.boundPort = Int(boundPort)
        defer { state.portWaiters.removeAll() }
        return (state.portWaiters, state.stopped || state.draining)
      }
      for waiter in waiters { waiter.resume(returning: Int(boundPort)) }
      acceptLoop.executeUnchecked { listener.start() }
      for (index, loop) in group.loops.enumerated() {
        loop.executeUnchecked { [self] in
          loop.every(.milliseconds(250)) { [self] in
            let now = EventLoop.now()
            for connection in connections[index].values { connection.tick(now: now) }
          }
        }
      }
      if stoppedEarly { beginGracefulShutdown() }
    }
    if ownsGroup { await group.shutdown() }
  }

  private func accepted(_ fd: Int32, peer: String, dispatcher: any ServerCallDispatcher) {
    let admitted = state.withLock { state -> Bool in
      guard !state.draining, !state.stopped, state.connectionCount < configuration.maxConnections else { return false }
      state.connectionCount += 1
      return true
    }
    guard admitted else {
      // Tell the client why, then close: the preface and a GOAWAY for call 0.
      var bytes = GuestAccessWire.Preface.bytes
      GuestAccessWire.FrameEncoder.append(
        .goAway, callID: 0,
        message: GoAway(lastCallID: 0, code: StatusCode.resourceExhausted.rawValue, message: "connection limit reached"), to: &bytes)
      _ = bytes.withUnsafeBytes { ga_send(fd, $0.baseAddress, $0.count) }
      Glibc.close(fd)
      return
    }
    let index = nextLoopIndex()
    let loop = group.loops[index]
    loop.executeUnchecked { [self] in
      let connection = ServerConnection(
        fd: fd, peer: peer, loop: loop, configuration: configuration, dispatcher: dispatcher, logger: logger
      ) { [self] connection in
        connections[index][ObjectIdentifier(connection)] = nil
        connectionClosed()
      }
      connections[index][ObjectIdentifier(connection)] = connection
      connection.start()
      if state.withLock({ $0.draining }) { connection.goAway() }
    }
  }

  private let roundRobin = Atomic<Int>(0)
  private func nextLoopIndex() -> Int {
    roundRobin.add(1, ordering: .relaxed).oldValue % group.loops.count
  }

  private func connectionClosed() {
    let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
      state.connectionCount -= 1
      guard (state.draining || state.stopped) && state.connectionCount == 0 else { return nil }
      defer { state.finished = nil }
      return state.finished
    }
    continuation?.resume()
  }

  public func beginGracefulShutdown() {
    let (wasListening, done) = state.withLock { state -> (Bool, CheckedContinuation<Void, any Error>?) in
      state.draining = true
      guard state.listening else { return (false, nil) }
      if state.connectionCount == 0, let finished = state.finished {
        state.finished = nil
        return (true, finished)
      }
      return (true, nil)
    }
    guard wasListening else { return }
    if let listener { listener.loop.executeUnchecked { listener.stop() } }
    for (index, loop) in group.loops.enumerated() {
      loop.executeUnchecked { [self] in
        for connection in connections[index].values { connection.goAway() }
      }
    }
    done?.resume()
  }

  public func stop() {
    let (wasListening, done) = state.withLock { state -> (Bool, CheckedContinuation<Void, any Error>?) in
      state.stopped = true
      guard state.listening else { return (false, nil) }
      if state.connectionCount == 0, let finished = state.finished {
        state.finished = nil
        return (true, finished)
      }
      return (true, nil)
    }
    guard wasListening else { return }
    if let listener { listener.loop.executeUnchecked { listener.stop() } }
    for (index, loop) in group.loops.enumerated() {
      loop.executeUnchecked { [self] in
        for connection in Array(connections[index].values) { connection.close(reason: "server stopped") }
      }
    }
    done?.resume()
  }
}
