import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessTLS
import Synchronization

/// The client transport over TCP: a small pool of multiplexed connections to
/// one server, connected lazily, replaced after GOAWAY or loss, with
/// exponential reconnect backoff.
public final class TCPClientTransport: ClientTransport, @unchecked Sendable {
  private enum Slot {
    case idle
    /// A connect attempt; `failures` is how many attempts in a row failed before it.
    case connecting(Task<ClientConnection, any Error>, failures: Int)
    case ready(ClientConnection)
    /// The last attempt failed (`failures` in a row); the next waits until `until`.
    case backoff(until: ContinuousClock.Instant, error: RPCError, failures: Int)
  }

  /// The server's host (name or numeric address).
  public let host: String
  /// The server's port.
  public let port: Int
  /// Time allowed for one connection attempt (TLS handshake included).
  public let connectTimeout: Duration
  /// TLS settings, when connections are encrypted.
  public let tls: TLSConfiguration?
  /// The TLS context made from `tls`, or why it could not be.
  private let tlsContext: Result<TLSContext, RPCError>?
  private let group: EventLoopGroup
  private let slots: LockedValue<[Slot]>
  private let roundRobin = Atomic<Int>(0)
  private let closed = Atomic<Bool>(false)

  /// Creates a transport with `connections` pooled connections on `group`'s
  /// loops; with `tls`, every connection is TLS (a CA file that cannot be
  /// loaded fails each call with FAILED_PRECONDITION).
  public init(
    host: String, port: Int, connections: Int = 1, connectTimeout: Duration = .seconds(5), tls: TLSConfiguration? = nil,
    group: EventLoopGroup = .shared
  ) {
    self.host = host
    self.port = port
    self.connectTimeout = connectTimeout
    self.tls = tls
    tlsContext = tls.map { options -> Result<TLSContext, RPCError> in
      do {
        return .success(try TLSContext(client: options))
      } catch {
        return .failure(RPCError(code: .failedPrecondition, message: "\(error)"))
      }
    }
    self.group = group
    connectionCount = max(1, connections)
    slots = LockedValue(Array(repeating: .idle, count: connectionCount))
  }

  /// The number of pooled connections.
  public let connectionCount: Int

  /// The loops the pool's connections run on; tasks that prefer one of them
  /// make calls without a thread hand-off.
  public var loops: [EventLoop] { group.loops }

  /// Opens every pooled connection now (normally they open on first use).
  public func connect() async throws {
    let count = connectionCount
    for index in 0..<count { _ = try await connection(slot: index) }
  }

  public func unary(path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]) async throws -> [UInt8] {
    let connection: ClientConnection
    switch pick() {
    case .ready(let ready): connection = ready
    case .slot(let index): connection = try await self.connection(slot: index)
    }
    return try await connection.unary(path: path, metadata: metadata, deadline: deadline, request: request)
  }

  public func serverStreaming(path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]) -> RawResponseStream {
    RawResponseStream { continuation in
      // Until the connection takes over, notice a consumer that leaves early.
      let consumerGone = TerminationFlag()
      continuation.onTermination = { termination in
        if case .cancelled = termination { consumerGone.set() }
      }
      Task {
        do {
          let connection: ClientConnection
          switch self.pick() {
          case .ready(let ready): connection = ready
          case .slot(let index): connection = try await self.connection(slot: index)
          }
          connection.serverStreaming(
            path: path, metadata: metadata, deadline: deadline, request: request, continuation: continuation,
            consumerGone: consumerGone)
        } catch {
          continuation.finish(throwing: error)
        }
      }
    }
  }

  public func close() {
    closed.store(true, ordering: .relaxed)
    let connections = slots.withLock { slots -> [ClientConnection] in
      defer { slots = slots.map { _ in .idle } }
      return slots.compactMap { if case .ready(let connection) = $0 { connection } else { nil } }
    }
    for connection in connections {
      connection.close(.clientClosed)
    }
  }

  /// Where a call goes: a usable connection now, or the slot to connect
  /// (or wait for) first.
  private enum Pick {
    case ready(ClientConnection)
    case slot(Int)
  }

  /// A usable connection on the caller's loop if there is one, else the
  /// next slot round robin (its connection at once when it is ready and
  /// usable: a call needs no suspension to find its connection).
  private func pick() -> Pick {
    slots.withLock { slots -> Pick in
      for slot in slots {
        if case .ready(let connection) = slot, connection.channel.loop.inEventLoop, connection.isUsable { return .ready(connection) }
      }
      let index = roundRobin.add(1, ordering: .relaxed).oldValue % slots.count
      if case .ready(let connection) = slots[index], connection.isUsable { return .ready(connection) }
      return .slot(index)
    }
  }

  private func connection(slot index: Int) async throws -> ClientConnection {
    guard !closed.load(ordering: .relaxed) else {
      throw RPCError(.clientClosed)
    }
    enum Next {
      case use(ClientConnection)
      case wait(Task<ClientConnection, any Error>)
      case fail(RPCError)
    }
    let next = slots.withLock { slots -> Next in
      switch slots[index] {
      case .ready(let connection) where connection.isUsable:
        return .use(connection)
      case .connecting(let task, _):
        return .wait(task)
      case .backoff(let until, let error, _) where ContinuousClock.now < until:
        return .fail(Self.retryAfter(until, error))
      default:
        var failures = 0
        if case .backoff(_, _, let count) = slots[index] { failures = count }
        let loop = group.loops[index % group.loops.count]
        let task = Task {
          try await self.open(on: loop) { fd, session, target in
            ClientConnection(fd: fd, loop: loop, target: target, tls: session) { [weak self] connection in
              self?.connectionUnusable(connection, slot: index)
            }
          }
        }
        slots[index] = .connecting(task, failures: failures)
        return .wait(task)
      }
    }
    switch next {
    case .use(let connection):
      return connection
    case .fail(let error):
      throw error
    case .wait(let task):
      do {
        let connection = try await task.value
        slots.withLock { slots in
          if case .connecting = slots[index] { slots[index] = .ready(connection) }
        }
        return connection
      } catch {
        let rpcError = (error as? RPCError) ?? RPCError(code: .unavailable, message: "\(error)")
        // Every caller that waited for this attempt lands here: the first counts the failure and
        // starts the backoff, the others take its window (counting each would back off as many
        // times over for one refused connect).
        let until = slots.withLock { slots -> ContinuousClock.Instant in
          switch slots[index] {
          case .connecting(let current, let failures) where current == task:
            let failureCount = failures + 1
            let backoff = RetryPolicy(initialBackoff: .milliseconds(100), maxBackoff: .seconds(5)).backoff(beforeRetry: failureCount)
            let until = ContinuousClock.now + backoff
            slots[index] = .backoff(until: until, error: rpcError, failures: failureCount)
            return until
          case .backoff(let until, _, _):
            return until
          default:
            return .now
          }
        }
        throw Self.retryAfter(until, rpcError)
      }
    }
  }

  /// Opens a socket to the server for a connection on `loop` (the name
  /// resolved, TLS as configured, within `connectTimeout`) and wraps it with
  /// `make` (descriptor, TLS session, numeric `host:port`).
  private func open<Connection: ConnectingConnection>(
    on loop: EventLoop, make: (Int32, TLSSession?, String) -> Connection
  ) async throws -> Connection {
    let context = try tlsContext?.get()
    let address = try await HostResolver.resolve(host)
    return try await SocketConnector.connect(
      host: address, port: port, loop: loop, timeout: connectTimeout, tls: context, serverName: tls?.serverName ?? host
    ) { make($0, $1, "\(address):\(port)") }
  }

  /// A pipeline of `depth` slots repeating `call` on a connection of its own
  /// on `loop` (this transport's server, TLS and connect timeout), driven by
  /// `driver`; it starts with `start()`. The pooled connections are not
  /// used. A transport closed before the pipeline connects fails its calls
  /// with `clientClosed`; closing the transport does not close the
  /// pipeline: close it with `close()`.
  public func makePipeline(call: UnaryPipeline.Call, depth: Int, loop: EventLoop, driver: any UnaryPipelineDriver) -> UnaryPipeline {
    UnaryPipeline(call: call, depth: depth, loop: loop, driver: driver) { pipeline, generation in
      guard !self.closed.load(ordering: .relaxed) else { throw RPCError(.clientClosed) }
      return try await self.open(on: loop) { fd, session, target in
        PipelineConnection(fd: fd, loop: loop, target: target, tls: session, generation: generation, depth: depth, pipeline: pipeline)
      }
    }
  }

  /// `error` with the time left until `until`, when this slot tries to
  /// connect again, as its retry hint: a caller that retries (`RPCChannel`)
  /// waits at least that long, so each of its attempts is a real connection
  /// attempt rather than an instant replay of the last failure.
  private static func retryAfter(_ until: ContinuousClock.Instant, _ error: RPCError) -> RPCError {
    var error = error
    let left = ContinuousClock.now.duration(to: until)
    // Rounded up: a caller that sleeps exactly this long must not arrive a moment early.
    error.retryDelayMillis = UInt64(max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000) + 1)
    return error
  }

  private func connectionUnusable(_ connection: ClientConnection, slot index: Int) {
    slots.withLock { slots in
      if case .ready(let current) = slots[index], current === connection { slots[index] = .idle }
    }
  }
}
