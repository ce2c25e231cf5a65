/// One call as a server transport delivers it: the request has been read
/// completely (GuestAccess has no client streaming).
public struct ServerCall: Sendable {
  /// The method path, `/service/method`.
  public let path: String
  /// The request metadata.
  public let metadata: Metadata
  /// The call's deadline, computed from the caller's timeout on arrival.
  public let deadline: ContinuousClock.Instant?
  /// The encoded request message.
  public let request: [UInt8]
  /// The caller's address.
  public let peer: String
  /// The client certificate the caller presented over mutual TLS, verified.
  public let peerCertificate: PeerCertificate?
  /// The executor handler tasks should prefer (the connection's event loop), if any.
  public let executor: (any TaskExecutor)?
  /// Where the response goes.
  public let responder: any ServerCallResponder

  /// Creates a call.
  public init(
    path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8], peer: String,
    peerCertificate: PeerCertificate? = nil, executor: (any TaskExecutor)?, responder: any ServerCallResponder
  ) {
    self.peerCertificate = peerCertificate
    self.path = path
    self.metadata = metadata
    self.deadline = deadline
    self.request = request
    self.peer = peer
    self.executor = executor
    self.responder = responder
  }
}

/// The response side of a `ServerCall`, implemented by each transport.
public protocol ServerCallResponder: Sendable {
  /// Sends one response message; suspends while the peer is not reading.
  /// - Throws: `RPCError` when the call has already ended.
  func send(_ message: [UInt8]) async throws
  /// Sends one response message and the trailers together (the unary fast path).
  func finish(message: [UInt8]?, trailers: Trailers)
  /// Ends the call with `trailers` (e.g. DEADLINE_EXCEEDED) and runs the
  /// cancel handlers; ignored if the call already ended.
  func abort(_ trailers: Trailers)
  /// Runs `handler` once when the call is cancelled (peer cancel, connection
  /// loss); at once if it already was.
  func onCancel(_ handler: @escaping @Sendable () -> Void)
  /// Whether the transport itself ends the call at its deadline (aborting it
  /// with DEADLINE_EXCEEDED); otherwise the server runs a timer for it.
  var enforcesDeadline: Bool { get }
  /// The call passed authentication: the transport may lift the limits it
  /// applies to connections none of whose calls has authenticated yet.
  func connectionAuthenticated()
}

extension ServerCallResponder {
  /// By default the server enforces deadlines.
  public var enforcesDeadline: Bool { false }
  /// By default a transport has no limits tied to authentication.
  public func connectionAuthenticated() {}
}

/// Receives the calls a server transport accepts.
public protocol ServerCallDispatcher: Sendable {
  /// Starts serving `call`; must not block.
  func dispatch(_ call: ServerCall)
  /// Whether new calls are still accepted (false while draining).
  var isAcceptingCalls: Bool { get }
}

/// Accepts connections and turns their frames into `ServerCall`s.
public protocol ServerTransport: Sendable {
  /// Serves until `stop()` or until a graceful shutdown has drained; returns then.
  func serve(dispatcher: any ServerCallDispatcher) async throws
  /// Stops accepting connections and tells every peer to go away; calls in
  /// flight continue. `serve` returns once they are all finished.
  func beginGracefulShutdown()
  /// Closes every connection at once.
  func stop()
}

/// Sends calls to a server.
public protocol ClientTransport: Sendable {
  /// Sends a unary call and returns the encoded response.
  /// - Throws: `RPCError` with the call's status.
  func unary(
    path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]
  ) async throws -> [UInt8]
  /// Starts a server-streaming call; the stream ends with the call's status.
  func serverStreaming(
    path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]
  ) -> RawResponseStream
  /// Closes the transport's connections; calls in flight fail with UNAVAILABLE.
  func close()
}
