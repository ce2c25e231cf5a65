import GuestAccessCore
import GuestAccessProto
import Synchronization

/// When guest-load ends a server-streaming call itself (ghz's
/// `--stream-call-count` and `--stream-call-duration`). A call ended this
/// way counts as OK; without a limit the call lasts until the server ends
/// the stream (or the call's timeout).
public struct StreamLimits: Sendable, Hashable {
  /// Messages after which the call is ended (nil: no limit).
  public var count: Int?
  /// Time after which the call is ended (nil: no limit).
  public var duration: Duration?

  public init(count: Int? = nil, duration: Duration? = nil) {
    self.count = count
    self.duration = duration
  }
}

/// What one call returned besides its status: for a server-streaming call,
/// the messages received and the time from sending to the first of them.
public struct CallOutcome: Sendable {
  /// Response messages (1 for a unary call).
  public var messages: Int
  /// Time from the start of the call to the first message (nil: none came).
  public var firstMessage: Duration?

  public static let unary = CallOutcome(messages: 1, firstMessage: nil)
}

/// One call with everything fixed but its options and stream limits.
public typealias FixedCall = @Sendable (CallOptions, StreamLimits) async throws -> CallOutcome

/// A method bound to a channel: calls it with an already decoded request.
public struct BoundCall: Sendable {
  /// The method's descriptor.
  public let descriptor: MethodDescriptor
  private let specialize: @Sendable (any ProtoMessage) -> FixedCall

  init<Request: ProtoMessage, Response: ProtoMessage>(
    descriptor: MethodDescriptor, channel: any ClientChannel, request: Request.Type, response: Response.Type
  ) {
    self.descriptor = descriptor
    switch descriptor.kind {
    case .unary:
      specialize = { message in
        let request = message as! Request
        return { options, _ in
          _ = try await channel.unary(descriptor, request: request, responseType: Response.self, options: options)
          return .unary
        }
      }
    case .serverStreaming:
      specialize = { message in
        let request = message as! Request
        return { options, limits in
          let began = ContinuousClock.now
          let progress = StreamProgress()
          try await channel.serverStreaming(descriptor, request: request, responseType: Response.self, options: options) { stream in
            try await withThrowingTaskGroup(of: Void.self) { group in
              group.addTask {
                for try await _ in stream {
                  if progress.received(at: began) >= limits.count ?? .max { return }
                }
              }
              if let duration = limits.duration {
                group.addTask { try await Task.sleep(for: duration) }
              }
              try await group.next()
              group.cancelAll()
            }
          }
          return progress.outcome
        }
      }
    }
  }

  /// The call of one request, made once and repeated (the request is cast to its type here, not per call).
  public func fixed(_ request: any ProtoMessage) -> FixedCall {
    specialize(request)
  }

  /// Sends one call.
  /// - Throws: `RPCError` with the call's status.
  public func callAsFunction(_ request: any ProtoMessage, options: CallOptions, limits: StreamLimits = .init()) async throws -> CallOutcome {
    try await specialize(request)(options, limits)
  }
}

/// Messages of one streaming call so far (written by the reading task, read after it ends).
private final class StreamProgress: Sendable {
  private let state = Mutex<CallOutcome>(CallOutcome(messages: 0, firstMessage: nil))

  /// Counts a message; returns the count so far.
  func received(at began: ContinuousClock.Instant) -> Int {
    state.withLock { outcome in
      if outcome.messages == 0 { outcome.firstMessage = began.duration(to: .now) }
      outcome.messages += 1
      return outcome.messages
    }
  }

  var outcome: CallOutcome { state.withLock { $0 } }
}
