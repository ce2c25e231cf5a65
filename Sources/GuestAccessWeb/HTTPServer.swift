import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessTLS
import GuestAccessTransport
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 listener on the project's epoll event loops: requests parsed by
/// the nodejs http-parser, keep-alive, pipelining in order, size and time
/// limits, connection bounds in total and per peer, TCP_NODELAY and one
/// `send` per response. Handlers that wait run in tasks preferring the
/// connection's loop, never blocking the Swift pool. With TLS, every
/// connection is TLS (TLS 1.3, 1.2 the floor; ALPN `http/1.1`), driven by the
/// same loops with non-blocking sockets; certificates reload without dropping
/// connections.
public final class HTTPServer: Sendable {
  /// The limits it runs with.
  public let configuration: HTTPServerConfiguration
  private let installedHandler = LockedValue<(any HTTPHandler)?>(nil)
  let logger: Logger
  private let group: EventLoopGroup
  private let listenFD: Int32
  /// The bound port.
  public let port: Int
  private let state = LockedValue(State())
  private let acceptor: LockedValue<Acceptor?> = LockedValue(nil)
  private let connections = LockedValue<[ObjectIdentifier: HTTPConnection]>([:])
  /// The TLS context new connections use; nil serves plaintext.
  let tls: ReloadingServerContext?
  private let tlsReloadInterval: Duration?

  private struct State {
    var total = 0
    var perPeer: [String: Int] = [:]
    var stopped = false
  }

  /// `http://HOST:PORT` (`https://` with TLS) of the bound address (`[HOST]` for IPv6).
  public var url: String {
    let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
    return "\(tls == nil ? "http" : "https")://\(host):\(port)"
  }

  /// Open connections now.
  public var connectionCount: Int { state.withLock { $0.total } }

  /// Binds the address (so that `port` is known, e.g. to build URLs);
  /// nothing is accepted before `start(handler:)`. With `tls`, the listener
  /// serves HTTPS only (a client CA in it requires client certificates), and
  /// checks its files for changes every `tlsReloadInterval` (nil: only `reloadTLS()`).
  public init(
    configuration: HTTPServerConfiguration, group: EventLoopGroup, logger: Logger, tls: TLSServerOptions? = nil,
    tlsReloadInterval: Duration? = nil
  ) throws {
    self.configuration = configuration
    self.group = group
    self.logger = logger
    do {
      self.tls = try tls.map { options throws(TLSError) in try ReloadingServerContext(options: options, application: .http1) }
    } catch {
      throw HTTPServerError(error.message)
    }
    self.tlsReloadInterval = tlsReloadInterval
    ga_ignore_sigpipe()
    var bound: Int32 = 0
    let fd = ga_listen(configuration.host, Int32(configuration.port), 512, &bound)
    guard fd >= 0 else {
      throw HTTPServerError("cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(ga_errno())))")
    }
    listenFD = fd
    port = Int(bound)
  }

  /// Starts accepting on the group's first loop; requests go to `handler`.
  public func start(handler: any HTTPHandler) {
    installedHandler.withLock { $0 = handler }
    let loop = group.loops[0]
    let acceptor = Acceptor(server: self, fd: listenFD, loop: loop)
    self.acceptor.withLock { $0 = acceptor }
    let fd = listenFD
    loop.executeOnLoop { acceptor.registration = loop.registerSocket(fd: fd, events: ga_epollin, handler: acceptor) }
    if let tls, let interval = tlsReloadInterval { scheduleReloadCheck(tls, every: interval, on: loop) }
  }

  /// Reloads the TLS certificate and key (for SIGHUP): new connections use
  /// them, established ones keep theirs. On failure the previous ones stay.
  public func reloadTLS() throws {
    guard let tls else { throw HTTPServerError("TLS is not enabled on \(url)") }
    do {
      try tls.reload()
    } catch {
      throw HTTPServerError(error.message)
    }
  }

  private func scheduleReloadCheck(_ context: ReloadingServerContext, every interval: Duration, on loop: EventLoop) {
    _ = loop.scheduleTimer(after: interval) { [self] in
      guard !isStopped else { return }
      do {
        if try context.reloadIfChanged() { logger.info("web TLS certificate reloaded after a file change") }
      } catch {
        logger.error("web TLS reload failed; the previous certificate stays in use", metadata: ["error": "\(error)"])
      }
      scheduleReloadCheck(context, every: interval, on: loop)
    }
  }

  var handler: any HTTPHandler { installedHandler.withLock { $0! } }

  /// Stops accepting and closes every connection.
  public func stop() {
    let already = state.withLock { state -> Bool in
      defer { state.stopped = true }
      return state.stopped
    }
    guard !already else { return }
    let fd = listenFD
    if let acceptor = acceptor.withLock({ $0 }) {
      acceptor.loop.executeOnLoop {
        if let registration = acceptor.registration { acceptor.loop.deregisterSocket(registration) }
        acceptor.registration = nil
        close(fd)
      }
    } else {
      close(fd)
    }
    let open = connections.withLock { connections in
      defer { connections = [:] }
      return Array(connections.values)
    }
    for connection in open { connection.loop.executeOnLoop { connection.close() } }
  }

  var isStopped: Bool { state.withLock { $0.stopped } }

  /// Counts a new connection from `address` if the bounds allow it.
  func admit(_ address: String) -> Bool {
    state.withLock { state in
      guard !state.stopped, state.total < configuration.maxConnections,
        state.perPeer[address, default: 0] < configuration.maxConnectionsPerPeer
      else { return false }
      state.total += 1
      state.perPeer[address, default: 0] += 1
      return true
    }
  }

  /// Gives back the slot of a connection from `address` (closed, or admitted but never started).
  func releaseSlot(_ address: String) {
    state.withLock { state in
      state.total -= 1
      let left = state.perPeer[address, default: 1] - 1
      state.perPeer[address] = left > 0 ? left : nil
    }
  }

  /// Keeps `connection` for `stop()`.
  func track(_ connection: HTTPConnection) {
    connections.withLock { $0[ObjectIdentifier(connection)] = connection }
  }

  /// Forgets a closed connection.
  func release(_ connection: HTTPConnection) {
    let address = connection.address
    connections.withLock { $0[ObjectIdentifier(connection)] = nil }
    releaseSlot(address)
  }

  func nextLoop() -> EventLoop { group.next() }
}

/// Accepts connections of the listening socket. Loop thread only.
final class Acceptor: EventLoopSocketHandler, @unchecked Sendable {
  let server: HTTPServer
  let fd: Int32
  let loop: EventLoop
  /// The listening socket's registration with `loop`, while accepting.
  var registration: EventLoopRegistration?

  init(server: HTTPServer, fd: Int32, loop: EventLoop) {
    self.server = server
    self.fd = fd
    self.loop = loop
  }

  func handleEvents(_ events: UInt32) {
    loop.assertInEventLoop()
    var peer = [CChar](repeating: 0, count: 64)
    for _ in 0..<256 {
      let client = ga_accept(fd, &peer, peer.count)
      guard client >= 0 else {
        let error = ga_errno()
        if error == EMFILE || error == ENFILE {
          guard let registration else { return }
          loop.modifySocket(registration, events: 0)
          _ = loop.scheduleTimer(after: .milliseconds(100)) { [self] in
            if !self.server.isStopped, let registration = self.registration { self.loop.modifySocket(registration, events: ga_epollin) }
          }
        }
        return
      }
      let peerText = String(decoding: peer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      let configuration = server.configuration
      guard configuration.proxyProtocolSources.contains(where: { $0.contains(PeerAddress.host(of: peerText)) }) else {
        serve(client, peer: peerText)
        continue
      }
      ProxyHeaderReader.start(fd: client, peer: peerText, loop: loop, timeout: configuration.handshakeTimeout) { [self] outcome in
        switch outcome {
        case .peer(let source): serve(client, peer: source)
        case .closed(let reason):
          server.logger.notice("web connection from a trusted balancer closed", metadata: ["peer": "\(peerText)", "reason": "\(reason)"])
        }
      }
    }
  }

  /// Admits and starts a connection from `peerText` (the balancer's client when a PROXY header said so).
  private func serve(_ client: Int32, peer peerText: String) {
    let address = PeerAddress.host(of: peerText)
    guard server.admit(address) else {
      close(client)
      return
    }
    _ = ga_set_nodelay(client)
    let target = server.nextLoop()
    let owner = server
    let context = server.tls?.current
    target.executeOnLoop {
      let session: TLSSession?
      do {
        session = try context.map { context throws(TLSError) in try TLSSession(context: context, fd: client, server: true) }
      } catch {
        owner.logger.error("web TLS session failed", metadata: ["error": "\(error)"])
        owner.releaseSlot(address)
        close(client)
        return
      }
      HTTPConnection(fd: client, peer: peerText, address: address, loop: target, server: owner, tls: session).start()
    }
  }
}
