import GuestAccessCore

/// The calls of one client connection as a pure state machine (no locks, no
/// sockets): which calls are in flight, what each frame from the server does
/// to them, and what GOAWAY and the end of the connection do. Each event
/// returns what the connection must do (complete a receiver, yield a message,
/// close); `ClientConnection` keeps the value under one lock and performs
/// the actions outside it.
///
/// ```
/// open --GOAWAY(last)--> goingAway --last call ends--> (connection closes)
///   |                        |
///   +--------close-----------+--> closed   (every call fails)
/// ```
///
/// `Receiver` is whoever takes a call's outcome; the table only moves it.
struct ClientCallTable<Receiver> {
  /// Whether a call answers with one message or a stream of them.
  enum Kind {
    case unary
    case stream
  }

  enum Phase: Equatable {
    /// Taking calls.
    case open
    /// The server sent GOAWAY: calls up to `lastCallID` finish, no new ones start.
    case goingAway(lastCallID: UInt32)
    /// Closed: no calls.
    case closed
  }

  private struct Call {
    var receiver: Receiver
    var kind: Kind
    /// A unary call's response message, until its trailers arrive.
    var response: [UInt8]?
  }

  /// What a MESSAGE frame asks of the connection.
  enum MessageAction {
    /// Nothing (a unary response kept for its trailers; a call already ended here).
    case none
    /// Hand the payload to this stream's receiver.
    case yield(Receiver)
    /// A second message for a unary call: the call ended; fail it with the
    /// error and cancel it on the server.
    case failAndCancel(Receiver, RPCError)
  }

  private(set) var phase = Phase.open
  private var calls: [UInt32: Call] = [:]
  private var nextCallID: UInt32 = 1
  /// Why the connection stopped taking calls (GOAWAY, loss, close), for the
  /// calls that arrive after.
  private(set) var endReason: String?

  /// Whether a new call may start.
  var isUsable: Bool { phase == .open && nextCallID < UInt32.max }

  /// Calls in flight.
  var count: Int { calls.count }

  /// After GOAWAY, whether every call it let finish has: the connection can close.
  var isDrained: Bool {
    if case .goingAway = phase { return calls.isEmpty }
    return false
  }

  /// A new call: its id (ids go up by one, in the order calls are opened), or
  /// the error that refuses it when the connection no longer takes calls.
  mutating func open(_ receiver: Receiver, kind: Kind, target: String) -> Result<UInt32, TransportError> {
    guard isUsable else { return .failure(.connectionEnded(target: target, reason: endReason)) }
    let callID = nextCallID
    nextCallID += 1
    calls[callID] = Call(receiver: receiver, kind: kind, response: nil)
    return .success(callID)
  }

  /// A MESSAGE frame for `callID`.
  mutating func receiveMessage(callID: UInt32, payload: [UInt8]) -> MessageAction {
    guard let call = calls[callID] else { return .none }
    switch call.kind {
    case .stream:
      return .yield(call.receiver)
    case .unary where call.response == nil:
      calls[callID]!.response = payload
      return .none
    case .unary:
      calls[callID] = nil
      return .failAndCancel(call.receiver, RPCError(code: .internalError, message: "server sent two messages for a unary call"))
    }
  }

  /// The TRAILERS frame for `callID`, carrying `error` (nil for OK): the
  /// receiver and the call's outcome, or nil when the call already ended here.
  /// A unary call succeeds with its response; a stream with no bytes.
  mutating func receiveTrailers(callID: UInt32, error: RPCError?) -> (Receiver, Result<[UInt8], RPCError>)? {
    guard let call = calls.removeValue(forKey: callID) else { return nil }
    if let error { return (call.receiver, .failure(error)) }
    switch call.kind {
    case .stream:
      return (call.receiver, .success([]))
    case .unary:
      guard let response = call.response else {
        return (call.receiver, .failure(RPCError(code: .internalError, message: "unary call ended without a response")))
      }
      return (call.receiver, .success(response))
    }
  }

  /// Ends a call here (cancelled, deadline, failed to send): its receiver, or
  /// nil when it had already ended.
  mutating func end(callID: UInt32) -> Receiver? {
    calls.removeValue(forKey: callID)?.receiver
  }

  /// The server's GOAWAY: no new calls; the calls above `lastCallID` never ran
  /// and are returned to be failed with `refusedByGoAway`.
  mutating func goAway(lastCallID: UInt32, message: String) -> [Receiver] {
    guard phase != .closed else { return [] }
    if case .goingAway(let earlier) = phase {
      phase = .goingAway(lastCallID: min(earlier, lastCallID))
    } else {
      phase = .goingAway(lastCallID: lastCallID)
    }
    if endReason == nil { endReason = TransportError.refusedByGoAway(message: message).description }
    let refused = calls.keys.filter { $0 > lastCallID }.sorted()
    return refused.map { calls.removeValue(forKey: $0)!.receiver }
  }

  /// The connection closed (lost, drained, closed by its owner) with `reason`:
  /// every call still here, in id order, to be failed.
  mutating func close(reason: String) -> [Receiver] {
    phase = .closed
    if endReason == nil { endReason = reason }
    let ended = calls.sorted { $0.key < $1.key }.map(\.value.receiver)
    calls.removeAll()
    return ended
  }
}
