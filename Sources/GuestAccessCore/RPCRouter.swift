/// Maps method paths to type-erased handlers.
public struct RPCRouter: Sendable {
  /// A type-erased handler working on encoded messages.
  public enum Handler: Sendable {
    /// Decodes the request, returns the encoded response.
    case unary(@Sendable (_ request: [UInt8], _ context: ServerContext) async throws -> [UInt8])
    /// A unary handler that never suspends: it may run on the transport's
    /// thread without a task (see `SynchronousServerInterceptor`).
    case synchronousUnary(@Sendable (_ request: [UInt8], _ context: ServerContext) throws -> [UInt8])
    /// Decodes the request, sends encoded responses through the closure.
    case serverStreaming(
      @Sendable (_ request: [UInt8], _ context: ServerContext, _ send: @escaping @Sendable ([UInt8]) async throws -> Void) async throws -> Void)
  }

  /// A registered method: one reference, so a call's look-up copies no
  /// strings or closures out of the table.
  public final class Route: Sendable {
    /// The method.
    public let descriptor: MethodDescriptor
    /// Its handler.
    public let handler: Handler

    init(_ descriptor: MethodDescriptor, _ handler: Handler) {
      self.descriptor = descriptor
      self.handler = handler
    }
  }

  private var handlers: [String: Route] = [:]

  /// An empty router.
  public init() {}

  /// A router with every method of `services`.
  public init(services: [any RegistrableRPCService]) {
    for service in services { service.registerMethods(with: &self) }
  }

  /// The methods registered so far.
  public var methods: [MethodDescriptor] { handlers.values.map(\.descriptor) }

  /// The handler for a wire path, if registered.
  public func route(_ path: String) -> Route? {
    handlers[path]
  }

  /// Registers a unary handler.
  public mutating func registerUnary<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, requestType: Request.Type = Request.self,
    handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
  ) {
    handlers[method.path] = Route(method, .unary { bytes, context in
      let request = try Self.decode(Request.self, bytes)
      return try await handler(request, context).serializedBytes()
    })
  }

  /// Registers a unary handler that never suspends (it reads memory only:
  /// no I/O, no lock held for long). Such a call can be served inline on the
  /// connection's thread, without a task; with an interceptor that cannot
  /// run synchronously it runs as a task like any other.
  public mutating func registerSynchronousUnary<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, requestType: Request.Type = Request.self,
    handler: @escaping @Sendable (Request, ServerContext) throws -> Response
  ) {
    handlers[method.path] = Route(method, .synchronousUnary { bytes, context in
      let request = try Self.decode(Request.self, bytes)
      return try handler(request, context).serializedBytes()
    })
  }

  /// Registers a server-streaming handler.
  public mutating func registerServerStreaming<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, requestType: Request.Type = Request.self,
    handler: @escaping @Sendable (Request, RPCWriter<Response>, ServerContext) async throws -> Void
  ) {
    handlers[method.path] = Route(method, .serverStreaming { bytes, context, send in
      let request = try Self.decode(Request.self, bytes)
      try await handler(request, RPCWriter { try await send($0.serializedBytes()) }, context)
    })
  }

  /// Registers a handler that works on encoded messages itself (proxies,
  /// pre-encoded responses, tests); it must throw `RPCError(.invalidArgument)`
  /// for a request it cannot decode.
  public mutating func register(_ method: MethodDescriptor, handler: Handler) {
    handlers[method.path] = Route(method, handler)
  }

  /// Registers every method of a service.
  public mutating func register(_ service: some RegistrableRPCService) {
    service.registerMethods(with: &self)
  }

  /// Decodes a request as the registered handlers do: a message that does
  /// not decode is INVALID_ARGUMENT. For handlers registered with `register`.
  public static func decode<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) throws(RPCError) -> M {
    do {
      return try decodeMessage(M.self, from: bytes)
    } catch {
      throw RPCError(code: .invalidArgument, message: "request is not a valid \(M.protoName): \(error.reason)")
    }
  }
}

/// A service whose methods can be registered with an `RPCRouter`; generated
/// service protocols refine it.
public protocol RegistrableRPCService: Sendable {
  /// Registers the service's methods.
  func registerMethods(with router: inout RPCRouter)
}
