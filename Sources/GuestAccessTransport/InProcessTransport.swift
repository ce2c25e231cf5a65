import GuestAccessCore
import GuestAccessLocks
import GuestAccessProto

/// A transport pair that connects a client to a server in the same process,
/// without sockets: end-to-end tests of services need no network.
public final class InProcessTransport: Sendable {
  /// The server side; give it to an `RPCServer`.
  public let server: Server
  /// The client side; give it to an `RPCChannel`.
  public let client: Client

  /// Creates a connected pair.
  public init() {
    server = Server()
    client = Client(server: server)
  }

  /// The server side of an in-process pair.
  public final class Server: ServerTransport, Sendable {
    private let state = LockedValue<(dispatcher: (any ServerCallDispatcher)?, finished: CheckedContinuation<Void, any Error>?, stopped: Bool)>((nil, nil, false))

    public func serve(dispatcher: any ServerCallDispatcher) async throws {
      try await withCheckedThrowingContinuation { continuation in
        let stopped = state.withLock { state -> Bool in
          state.dispatcher = dispatcher
          state.finished = continuation
          return state.stopped
        }
        if stopped { stop() }
      }
    }

    public func beginGracefulShutdown() { stop() }

    public func stop() {
      let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
        state.stopped = true
        state.dispatcher = nil
        defer { state.finished = nil }
        return state.finished
      }
      continuation?.resume()
    }

    var dispatcher: (any ServerCallDispatcher)? { state.withLock { $0.dispatcher } }
  }

  /// The client side of an in-process pair.
  public final class Client: ClientTransport, Sendable {
    private let server: Server

    init(server: Server) {
      self.server = server
    }

    public func unary(path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]) async throws -> [UInt8] {
      guard let dispatcher = server.dispatcher else {
        throw RPCError.callNotProcessed("in-process server is not serving")
      }
      let responder = InProcessResponder()
      return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
          responder.setUnary(continuation)
          dispatcher.dispatch(ServerCall(
            path: path, metadata: metadata, deadline: deadline, request: request, peer: "in-process", executor: nil,
            responder: responder))
        }
      } onCancel: {
        responder.cancelFromClient()
      }
    }

    public func serverStreaming(path: String, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]) -> RawResponseStream {
      RawResponseStream { continuation in
        guard let dispatcher = server.dispatcher else {
          continuation.finish(throwing: RPCError(code: .unavailable, message: "in-process server is not serving"))
          return
        }
        let responder = InProcessResponder()
        responder.setStream(continuation)
        continuation.onTermination = { termination in
          if case .cancelled = termination { responder.cancelFromClient() }
        }
        dispatcher.dispatch(ServerCall(
          path: path, metadata: metadata, deadline: deadline, request: request, peer: "in-process", executor: nil,
          responder: responder))
      }
    }

    public func close() {}
  }
}

/// Bridges a server call's responses to the client's continuation.
final class InProcessResponder: ServerCallResponder, @unchecked Sendable {
  private struct State {
    var unary: CheckedContinuation<[UInt8], any Error>?
    var stream: RawResponseStream.Continuation?
    var response: [UInt8]?
    var finished = false
    var cancelHandlers: [@Sendable () -> Void] = []
    var cancelled = false
  }

  private let state = LockedValue(State())

  func setUnary(_ continuation: CheckedContinuation<[UInt8], any Error>) { state.withLock { $0.unary = continuation } }
  func setStream(_ continuation: RawResponseStream.Continuation) { state.withLock { $0.stream = continuation } }

  func send(_ message: [UInt8]) async throws {
    let stream = try state.withLock { state throws -> RawResponseStream.Continuation? in
      guard !state.finished else { throw RPCError(code: .cancelled, message: "call already ended") }
      if state.unary != nil { state.response = message }
      return state.stream
    }
    stream?.yield(message)
  }

  func finish(message: [UInt8]?, trailers: Trailers) {
    let (unary, stream, response) = state.withLock { state -> (CheckedContinuation<[UInt8], any Error>?, RawResponseStream.Continuation?, [UInt8]?) in
      guard !state.finished else { return (nil, nil, nil) }
      state.finished = true
      state.cancelHandlers.removeAll()
      defer { state.unary = nil; state.stream = nil }
      return (state.unary, state.stream, message ?? state.response)
    }
    let error = RPCError(trailers: trailers)
    if let unary {
      if let error { unary.resume(throwing: error) }
      else if let response { unary.resume(returning: response) }
      else { unary.resume(throwing: RPCError(code: .internalError, message: "unary call ended without a response")) }
    }
    if let stream {
      if let message { stream.yield(message) }
      if let error { stream.finish(throwing: error) } else { stream.finish() }
    }
  }

  func abort(_ trailers: Trailers) {
    let handlers = state.withLock { state -> [@Sendable () -> Void] in
      state.cancelled = true
      defer { state.cancelHandlers.removeAll() }
      return state.cancelHandlers
    }
    finish(message: nil, trailers: trailers)
    for handler in handlers { handler() }
  }

  func onCancel(_ handler: @escaping @Sendable () -> Void) {
    let now = state.withLock { state -> Bool in
      if state.cancelled { return true }
      state.cancelHandlers.append(handler)
      return false
    }
    if now { handler() }
  }

  func cancelFromClient() {
    abort(RPCError(code: .cancelled, message: "call cancelled by the client").trailers)
  }
}
