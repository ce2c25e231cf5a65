import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessTLS
import GuestAccessWire
import Logging
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
    var finishedServing = false
    var connectionCount = 0
    /// Open counted connections per peer address (no entry at zero).
    var perPeer: [String: Int] = [:]
    /// Running calls per address with open connections (see `PeerCalls`).
    var peerCalls: [String: PeerCalls] = [:]
    var refusedCount = 0
    var finished: CheckedContinuation<Void, any Error>?
    var boundPort: Int?
    var portWaiters: [CheckedContinuation<Int, any Error>] = []
    var listener: Listener?
  }

  /// The configuration.
  public let configuration: TCPServerConfiguration
  private let group: EventLoopGroup
  private let ownsGroup: Bool
  private let logger: Logger
  private let state = LockedValue(State())
  /// Connections per loop (each touched only on its loop).
  private let perLoop: [LoopConnections]
  private let roundRobin = Atomic<Int>(0)
  private let memory: MemoryBudget
  /// The TLS context new connections use (set before listening, when TLS is on).
  private let tlsContext = LockedValue<ReloadingServerContext?>(nil)
  /// Refused connections being closed gracefully at most; more are closed at once.
  static let maxRefusing = 64
  /// How often each loop checks its connections' timeouts.
  static let tickInterval: Duration = .milliseconds(100)

  /// Creates a transport; it listens when `serve` runs.
  public init(configuration: TCPServerConfiguration, group: EventLoopGroup? = nil, logger: Logger = Logger(label: "guestaccess.transport")) {
    self.configuration = configuration
    self.group = group ?? EventLoopGroup(count: configuration.loopCount, name: "ga-server", busyPoll: configuration.busyPoll)
    ownsGroup = group == nil
    self.logger = logger
    memory = MemoryBudget(limit: configuration.memoryBudget)
    perLoop = self.group.loops.map(LoopConnections.init(loop:))
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

  /// Open connections now (refused ones not counted).
  public var connectionCount: Int { state.withLock { $0.connectionCount } }

  /// Bytes now held for clients in the server's memory budget: headers of
  /// calls waiting for their request message and queued responses.
  public var bufferedBytes: Int { memory.usedBytes }

  /// Reloads the TLS certificate, key and client CAs (for SIGHUP): new
  /// connections use them, established ones are kept. On failure the
  /// previous ones stay in use.
  /// - Throws: `TLSError` when a file is invalid; `RPCError` when TLS is off.
  public func reloadTLS() throws {
    guard let context = tlsContext.withLock({ $0 }) else {
      throw RPCError(code: .failedPrecondition, message: "TLS is not enabled")
    }
    try context.reload()
    logger.info("TLS certificate reloaded", metadata: ["certificate": "\(context.options.certificateFile)"])
  }

  public func serve(dispatcher: any ServerCallDispatcher) async throws {
    if let options = configuration.tls {
      do {
        let context = try ReloadingServerContext(options: options)
        tlsContext.withLock { $0 = context }
      } catch {
        failWaiters(RPCError(code: .failedPrecondition, message: error.message))
        throw error
      }
    }
    var boundPort: Int32 = 0
    let fd = ga_listen(configuration.host, Int32(configuration.port), 4096, &boundPort)
    guard fd >= 0 else {
      let error = RPCError(code: .unavailable, message: "cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(ga_errno())))")
      failWaiters(error)
      throw error
    }
    let acceptLoop = group.loops[0]
    let listener = Listener(fd: fd, loop: acceptLoop) { [self] client, peer in
      guard configuration.proxyProtocolSources.contains(where: { $0.contains(PeerAddress.host(of: peer)) }) else {
        return accepted(client, peer: peer, dispatcher: dispatcher)
      }
      ProxyHeaderReader.start(fd: client, peer: peer, loop: acceptLoop, timeout: configuration.handshakeTimeout) { [self] outcome in
        switch outcome {
        case .peer(let source): accepted(client, peer: source, dispatcher: dispatcher)
        case .closed(let reason): logger.notice("connection from a trusted balancer closed", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        }
      }
    }
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      let (waiters, stoppedEarly) = state.withLock { state -> ([CheckedContinuation<Int, any Error>], Bool) in
        state.finished = continuation
        state.listening = true
        state.listener = listener
        state.boundPort = Int(boundPort)
        defer { state.portWaiters.removeAll() }
        return (state.portWaiters, state.stopped || state.draining)
      }
      for waiter in waiters { waiter.resume(returning: Int(boundPort)) }
      acceptLoop.executeUnchecked { listener.start() }
      for connections in perLoop {
        connections.loop.executeUnchecked { [self] in
          connections.loop.every(Self.tickInterval) { [self] in
            let now = EventLoop.now()
            for connection in Array(connections.connections.values) { connection.tick(now: now) }
            return !state.withLock { $0.finishedServing }
          }
        }
      }
      if let interval = configuration.tlsReloadInterval, let context = tlsContext.withLock({ $0 }) {
        acceptLoop.executeUnchecked { [self] in
          acceptLoop.every(interval) { [self] in
            reloadIfChanged(context)
            return !state.withLock { $0.finishedServing }
          }
        }
      }
      if stoppedEarly { beginGracefulShutdown() }
    }
    if ownsGroup { await group.shutdown() }
  }

  /// Stops waiting for the port: the transport will not listen.
  private func failWaiters(_ error: RPCError) {
    let waiters = state.withLock { state -> [CheckedContinuation<Int, any Error>] in
      state.stopped = true
      defer { state.portWaiters.removeAll() }
      return state.portWaiters
    }
    for waiter in waiters { waiter.resume(throwing: error) }
  }

  /// Reloads the TLS files when they changed (checked every `tlsReloadInterval`). Loop thread.
  private func reloadIfChanged(_ context: ReloadingServerContext) {
    do {
      if try context.reloadIfChanged() {
        logger.info("TLS certificate reloaded after a file change", metadata: ["certificate": "\(context.options.certificateFile)"])
      }
    } catch {
      logger.error("TLS reload failed; the previous certificate stays in use", metadata: ["error": "\(error.message)"])
    }
  }

  /// A TLS session for an accepted socket, when TLS is on; nil and the
  /// socket closed when the session cannot be made.
  private func tlsSession(for fd: Int32) -> (ok: Bool, session: TLSSession?) {
    guard let context = tlsContext.withLock({ $0 }) else { return (true, nil) }
    do {
      return (true, try TLSSession(context: context.current, fd: fd, server: true))
    } catch {
      logger.error("cannot start TLS on an accepted connection", metadata: ["error": "\(error.message)"])
      Glibc.close(fd)
      return (false, nil)
    }
  }

  private func accepted(_ fd: Int32, peer: String, dispatcher: any ServerCallDispatcher) {
    enum Admission { case admit(PeerCalls), refuse(RPCError), drop }
    let peerHost = PeerAddress.host(of: peer)
    let admission = state.withLock { state -> Admission in
      if state.stopped { return .drop }
      let fromPeer = state.perPeer[peerHost, default: 0]
      if !state.draining && state.connectionCount < configuration.maxConnections && fromPeer < configuration.maxConnectionsPerPeer {
        state.connectionCount += 1
        state.perPeer[peerHost] = fromPeer + 1
        let calls = state.peerCalls[peerHost] ?? PeerCalls()
        state.peerCalls[peerHost] = calls
        return .admit(calls)
      }
      guard state.refusedCount < Self.maxRefusing else { return .drop }
      state.refusedCount += 1
      if state.draining { return .refuse(RPCError.callNotProcessed("server is shutting down")) }
      if fromPeer >= configuration.maxConnectionsPerPeer {
        return .refuse(RPCError(code: .resourceExhausted, message: "connection limit of \(configuration.maxConnectionsPerPeer) per client address reached"))
      }
      return .refuse(RPCError(code: .resourceExhausted, message: "connection limit of \(configuration.maxConnections) reached"))
    }
    switch admission {
    case .drop:
      Glibc.close(fd)
    case .refuse(let error):
      // Tell the client why: the preface and a GOAWAY, then a graceful close.
      let connections = perLoop[0]
      let (ok, tls) = tlsSession(for: fd)
      guard ok else { return release(counted: false, peerHost: peerHost) }
      let connection = ServerConnection(
        fd: fd, peer: peer, peerHost: peerHost, loop: connections.loop, configuration: configuration, counted: false, tls: tls,
        memory: memory, peerCalls: PeerCalls(), dispatcher: dispatcher, logger: logger, onClose: connectionClosed(in: connections))
      connections.connections[ObjectIdentifier(connection)] = connection
      connection.refuseConnection(error)
    case .admit(let peerCalls):
      let connections = perLoop[roundRobin.add(1, ordering: .relaxed).oldValue % perLoop.count]
      connections.loop.executeUnchecked { [self] in
        let (ok, tls) = tlsSession(for: fd)
        guard ok else { return release(counted: true, peerHost: peerHost) }
        let connection = ServerConnection(
          fd: fd, peer: peer, peerHost: peerHost, loop: connections.loop, configuration: configuration, tls: tls, memory: memory,
          peerCalls: peerCalls, dispatcher: dispatcher, logger: logger, onClose: connectionClosed(in: connections))
        connections.connections[ObjectIdentifier(connection)] = connection
        connection.start()
        if state.withLock({ $0.draining }) { connection.goAway() }
      }
    }
  }

  private func connectionClosed(in connections: LoopConnections) -> (ServerConnection) -> Void {
    { [self] connection in
      connections.connections[ObjectIdentifier(connection)] = nil
      release(counted: connection.counted, peerHost: connection.peerHost)
    }
  }

  /// A connection is gone (one that counts towards the limit, or a refused
  /// one): counts it out, and ends `serve` if it was the last while stopping.
  private func release(counted: Bool, peerHost: String) {
    let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
      if counted {
        state.connectionCount -= 1
        let fromPeer = state.perPeer[peerHost, default: 1] - 1
        state.perPeer[peerHost] = fromPeer > 0 ? fromPeer : nil
        if fromPeer == 0 { state.peerCalls[peerHost] = nil }
      } else {
        state.refusedCount -= 1
      }
      return finishIfDone(&state)
    }
    continuation?.resume()
  }

  /// The `serve` continuation, once stopping or draining and no connection is left.
  private func finishIfDone(_ state: inout State) -> CheckedContinuation<Void, any Error>? {
    guard (state.draining || state.stopped) && state.connectionCount == 0 && state.refusedCount == 0,
      let finished = state.finished
    else { return nil }
    state.finished = nil
    state.finishedServing = true
    return finished
  }

  public func beginGracefulShutdown() {
    let (listener, done) = state.withLock { state -> (Listener?, CheckedContinuation<Void, any Error>?) in
      state.draining = true
      guard state.listening else { return (nil, nil) }
      defer { state.listener = nil }
      return (state.listener, finishIfDone(&state))
    }
    if let listener { listener.loop.executeUnchecked { listener.stop() } }
    for connections in perLoop {
      connections.loop.executeUnchecked {
        for connection in Array(connections.connections.values) { connection.goAway() }
      }
    }
    done?.resume()
  }

  public func stop() {
    let (listener, done) = state.withLock { state -> (Listener?, CheckedContinuation<Void, any Error>?) in
      state.stopped = true
      guard state.listening else { return (nil, nil) }
      defer { state.listener = nil }
      return (state.listener, finishIfDone(&state))
    }
    if let listener { listener.loop.executeUnchecked { listener.stop() } }
    for connections in perLoop {
      connections.loop.executeUnchecked {
        for connection in Array(connections.connections.values) { connection.close(reason: "server stopped") }
      }
    }
    done?.resume()
  }
}
