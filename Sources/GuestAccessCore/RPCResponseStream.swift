/// The response messages of a server-streaming call, as an async sequence.
/// Leaving the sequence (or the call's body) cancels the call.
public struct RPCResponseStream<Message: ProtoMessage>: AsyncSequence, Sendable {
  public typealias Element = Message
  private let raw: RawResponseStream

  /// Wraps a stream of encoded messages.
  public init(raw: RawResponseStream) {
    self.raw = raw
  }

  public struct AsyncIterator: AsyncIteratorProtocol {
    var base: RawResponseStream.AsyncIterator

    public mutating func next() async throws -> Message? {
      guard let bytes = try await base.next(isolation: #isolation) else { return nil }
      do {
        return try decodeMessage(Message.self, from: bytes)
      } catch {
        throw RPCError(code: .internalError, message: "undecodable response message: \(error)")
      }
    }
  }

  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(base: raw.makeAsyncIterator())
  }
}

/// Encoded response messages of a server-streaming call; ends with the call's
/// status (finishing normally for OK, throwing `RPCError` otherwise).
public typealias RawResponseStream = AsyncThrowingStream<[UInt8], any Error>
