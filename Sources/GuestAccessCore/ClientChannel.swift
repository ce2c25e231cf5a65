/// What generated client stubs call: typed unary and server-streaming calls.
public protocol ClientChannel: Sendable {
  /// Sends a unary call.
  /// - Throws: `RPCError` with the call's status.
  func unary<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, request: Request, responseType: Response.Type, options: CallOptions
  ) async throws -> Response

  /// Sends a server-streaming call; `body` consumes the responses.
  func serverStreaming<Request: ProtoMessage, Response: ProtoMessage, Result: Sendable>(
    _ method: MethodDescriptor, request: Request, responseType: Response.Type, options: CallOptions,
    _ body: @Sendable (RPCResponseStream<Response>) async throws -> Result
  ) async throws -> Result
}
