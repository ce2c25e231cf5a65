import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks
import GuestAccessTLS

#if canImport(Glibc)
import Glibc
#endif

/// A client connection being connected: its socket, and what it does once
/// the socket (and TLS handshake) is ready.
protocol ConnectingConnection: AnyObject, Sendable {
  /// The connection's socket.
  var channel: SocketChannel { get }
  /// `host:port`, for errors.
  var target: String { get }
  /// Takes the socket's loop registration over from the connect waiter and
  /// sends the preface. Loop thread.
  func activate()
}

/// Opens client sockets: a non-blocking connect, the TLS handshake when
/// asked, within one timeout, cancellable; the one way every client
/// connection (the pooled `ClientConnection`, a `UnaryPipeline`'s) is made.
enum SocketConnector {
  /// Connects to numeric `host:port` within `timeout` and wraps the socket
  /// with `make`; with `tls`, the TLS handshake (certificate checked as
  /// `serverName`) finishes within the timeout too.
  static func connect<Connection: ConnectingConnection>(
    host: String, port: Int, loop: EventLoop, timeout: Duration, tls: TLSContext?, serverName: String?,
    make: (Int32, TLSSession?) -> Connection
  ) async throws -> Connection {
    var inProgress: Int32 = 0
    let fd = ga_connect(host, Int32(port), &inProgress)
    guard fd >= 0 else {
      throw RPCError(.connectFailed(target: "\(host):\(port)", reason: String(cString: strerror(ga_errno()))))
    }
    var session: TLSSession?
    if let tls {
      do {
        session = try TLSSession(context: tls, fd: fd, server: false, serverName: serverName ?? host)
      } catch {
        Glibc.close(fd)
        throw RPCError(.tlsSetupFailed(error.message))
      }
    }
    let connection = make(fd, session)
    let waiter = ConnectWaiter(connection: connection)
    let timer = Task {
      try? await Task.sleep(for: timeout)
      waiter.fail(RPCError(.connectTimedOut(target: "\(host):\(port)", timeout: timeout)))
    }
    defer { timer.cancel() }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        waiter.set(continuation)
        loop.executeUnchecked {
          guard connection.channel.register(events: ga_epollout | ga_epollin | ga_epollrdhup, handler: waiter) else {
            waiter.fail(RPCError(code: .unavailable, message: "cannot register socket"))
            return
          }
        }
      }
    } onCancel: {
      waiter.fail(RPCError(code: .cancelled, message: "connect cancelled"))
    }
    return connection
  }
}

/// Waits for a non-blocking connect to finish (writable socket). The outcome
/// (connected, failed, timed out, cancelled) and the waiting continuation meet
/// in one `ConnectState` under one lock, in whichever order they arrive.
final class ConnectWaiter<Connection: ConnectingConnection>: EventLoopHandler, @unchecked Sendable {
  private let connection: Connection
  private let state = LockedValue(ConnectState<CheckedContinuation<Void, any Error>>())

  init(connection: Connection) {
    self.connection = connection
  }

  func set(_ continuation: CheckedContinuation<Void, any Error>) {
    let outcome = state.withLock { $0.wait(continuation) }
    switch outcome {
    case nil: break
    case .success?: continuation.resume()
    case .failure(let error)?: continuation.resume(throwing: error)
    }
  }

  func handleEvents(_ events: UInt32) {
    let error = ga_socket_error(connection.channel.fd)
    if error == 0 {
      let channel = connection.channel
      switch channel.handshake() {
      case .done:
        connection.activate()
        resolve(nil)
      case .wantRead:
        channel.setInterest(ga_epollin | ga_epollrdhup)
      case .wantWrite:
        channel.setInterest(ga_epollout | ga_epollrdhup)
      case .failed(let reason):
        fail(RPCError(.connectFailed(target: connection.target, reason: reason)))
      case .closed:
        fail(RPCError(.connectFailed(target: connection.target, reason: "the server closed the connection")))
      }
    } else {
      fail(RPCError(.connectFailed(target: connection.target, reason: String(cString: strerror(error)))))
    }
  }

  func fail(_ error: RPCError) {
    if resolve(error) {
      connection.channel.loop.executeUnchecked { [connection] in connection.channel.close() }
    }
  }

  /// Records the outcome and resumes the waiter if it is there; returns
  /// whether this was the first outcome.
  @discardableResult
  private func resolve(_ error: RPCError?) -> Bool {
    switch state.withLock({ $0.resolve(error) }) {
    case .alreadyEnded:
      return false
    case .recorded:
      return true
    case .resume(let continuation):
      if let error { continuation.resume(throwing: error) } else { continuation.resume() }
      return true
    }
  }
}
