import GuestAccessLocks

/// A `ClientChannel` over a `ClientTransport`: encodes and decodes messages,
/// adds default metadata, runs client interceptors, and retries UNAVAILABLE
/// calls that are idempotent or never reached a handler.
public struct RPCChannel: ClientChannel {
  /// The transport calls go through.
  public let transport: any ClientTransport
  /// Metadata sent with every call (e.g. `authorization`).
  public var defaultMetadata: Metadata
  /// Interceptors run around every attempt, in order.
  public var interceptors: [any ClientInterceptor]
  /// How UNAVAILABLE is retried.
  public var retryPolicy: RetryPolicy

  /// Creates a channel.
  public init(
    transport: any ClientTransport, defaultMetadata: Metadata = [:], interceptors: [any ClientInterceptor] = [],
    retryPolicy: RetryPolicy = .default
  ) {
    self.transport = transport
    self.defaultMetadata = defaultMetadata
    self.interceptors = interceptors
    self.retryPolicy = retryPolicy
  }

  public func unary<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, request: Request, responseType: Response.Type, options: CallOptions
  ) async throws -> Response {
    let deadline = options.timeout.map { ContinuousClock.now + $0 }
    let bytes = request.serializedBytes()
    let retryable = options.retryable ?? method.idempotent
    var attempt = 1
    while true {
      do {
        let response = try await attemptUnary(method, bytes: bytes, options: options, deadline: deadline)
        do {
          return try decodeMessage(Response.self, from: response)
        } catch {
          throw RPCError(code: .internalError, message: "undecodable response: \(error.reason)")
        }
      } catch let error as RPCError {
        guard let backoff = shouldRetry(error, attempt: attempt, retryable: retryable, deadline: deadline) else { throw error }
        try await Task.sleep(for: backoff)
        attempt += 1
      }
    }
  }

  public func serverStreaming<Request: ProtoMessage, Response: ProtoMessage, Result: Sendable>(
    _ method: MethodDescriptor, request: Request, responseType: Response.Type, options: CallOptions,
    _ body: @Sendable (RPCResponseStream<Response>) async throws -> Result
  ) async throws -> Result {
    let deadline = options.timeout.map { ContinuousClock.now + $0 }
    var metadata = defaultMetadata
    metadata.merge(options.metadata)
    let bytes = request.serializedBytes()
    if interceptors.isEmpty {
      let stream = transport.serverStreaming(path: method.path, metadata: metadata, deadline: deadline, request: bytes)
      return try await body(RPCResponseStream(raw: stream))
    }
    // Interceptors wrap the whole call: `next` returns when `body` is done with the stream.
    var options = options
    options.metadata = metadata
    let result = LockedValue<Result?>(nil)
    try await withoutActuallyEscaping(body) { body in
      try await intercept(index: 0, method: method, options: options) { options in
        let stream = transport.serverStreaming(path: method.path, metadata: options.metadata, deadline: deadline, request: bytes)
        let value = try await body(RPCResponseStream(raw: stream))
        result.withLock { $0 = value }
      }
    }
    guard let value = result.withLock({ $0 }) else {
      throw RPCError(code: .internalError, message: "a client interceptor did not call next")
    }
    return value
  }

  private func attemptUnary(
    _ method: MethodDescriptor, bytes: [UInt8], options: CallOptions, deadline: ContinuousClock.Instant?
  ) async throws -> [UInt8] {
    var metadata = defaultMetadata
    metadata.merge(options.metadata)
    if interceptors.isEmpty {
      return try await transport.unary(path: method.path, metadata: metadata, deadline: deadline, request: bytes)
    }
    let result = LockedValue<[UInt8]?>(nil)
    var options = options
    options.metadata = metadata
    try await intercept(index: 0, method: method, options: options) { options in
      let response = try await transport.unary(path: method.path, metadata: options.metadata, deadline: deadline, request: bytes)
      result.withLock { $0 = response }
    }
    guard let response = result.withLock({ $0 }) else {
      throw RPCError(code: .internalError, message: "a client interceptor did not call next")
    }
    return response
  }

  private func intercept(
    index: Int, method: MethodDescriptor, options: CallOptions, _ final: @escaping @Sendable (CallOptions) async throws -> Void
  ) async throws {
    if index == interceptors.count {
      try await final(options)
      return
    }
    try await interceptors[index].intercept(method: method, options: options) { options in
      try await self.intercept(index: index + 1, method: method, options: options, final)
    }
  }

  private func shouldRetry(_ error: RPCError, attempt: Int, retryable: Bool, deadline: ContinuousClock.Instant?) -> Duration? {
    guard error.code == .unavailable, attempt < retryPolicy.maxAttempts else { return nil }
    guard retryable || error.isCallNotProcessed else { return nil }
    var backoff = retryPolicy.backoff(beforeRetry: attempt)
    if let hint = error.retryDelayMillis { backoff = max(backoff, .milliseconds(Int64(hint))) }
    if let deadline, ContinuousClock.now + backoff >= deadline { return nil }
    return backoff
  }
}
