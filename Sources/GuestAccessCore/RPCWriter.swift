/// Writes the response messages of a server-streaming call.
public struct RPCWriter<Message: ProtoMessageConvertible>: Sendable {
  private let sink: @Sendable (Message) async throws -> Void

  /// Creates a writer that hands each message to `sink`.
  public init(_ sink: @escaping @Sendable (Message) async throws -> Void) {
    self.sink = sink
  }

  /// Sends one message; suspends while the peer is not reading.
  /// - Throws: when the call has ended (cancelled, deadline, peer gone).
  public func write(_ message: Message) async throws {
    try await sink(message)
  }
}
