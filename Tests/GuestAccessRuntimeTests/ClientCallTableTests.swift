import GuestAccessCore
@testable import GuestAccessTransport
import Testing

/// The client connection's call table without sockets: ids, what each frame
/// from the server does to a call, GOAWAY and close (docs/PROTOCOL.md).
@Suite("Client call table")
struct ClientCallTableTests {
  typealias Table = ClientCallTable<String>

  static func open(_ table: inout Table, _ name: String, _ kind: Table.Kind = .unary) throws -> UInt32 {
    try table.open(name, kind: kind, target: "server:1").get()
  }

  @Test("call ids go up by one from 1, in the order calls open")
  func idsInOrder() throws {
    var table = Table()
    #expect(try Self.open(&table, "a") == 1)
    #expect(try Self.open(&table, "b", .stream) == 2)
    #expect(try Self.open(&table, "c") == 3)
    #expect(table.count == 3)
    #expect(table.isUsable)
  }

  @Test("a unary call succeeds with its message at its trailers; ends once")
  func unaryOutcome() throws {
    var table = Table()
    let id = try Self.open(&table, "a")
    guard case .none = table.receiveMessage(callID: id, payload: [7]) else { Issue.record("message not kept"); return }
    let outcome = table.receiveTrailers(callID: id, error: nil)
    #expect(outcome?.0 == "a")
    #expect(try outcome?.1.get() == [7])
    #expect(table.receiveTrailers(callID: id, error: nil) == nil)
    #expect(table.end(callID: id) == nil)
    #expect(table.count == 0)
  }

  @Test("a unary call without a message, or with two, is an INTERNAL error")
  func unaryMisbehaviour() throws {
    var table = Table()
    let silent = try Self.open(&table, "silent")
    let outcome = table.receiveTrailers(callID: silent, error: nil)
    #expect(Self.error(outcome?.1)?.code == .internalError)

    let chatty = try Self.open(&table, "chatty")
    _ = table.receiveMessage(callID: chatty, payload: [1])
    guard case .failAndCancel(let receiver, let error) = table.receiveMessage(callID: chatty, payload: [2]) else {
      Issue.record("second message accepted"); return
    }
    #expect(receiver == "chatty")
    #expect(error.code == .internalError)
    #expect(table.count == 0)
  }

  @Test("a stream yields every message, and ends with its trailers' status")
  func streamOutcome() throws {
    var table = Table()
    let id = try Self.open(&table, "watch", .stream)
    for _ in 0..<3 {
      guard case .yield("watch") = table.receiveMessage(callID: id, payload: [1]) else { Issue.record("not yielded"); return }
    }
    let failed = RPCError(code: .unavailable, message: "stream ended")
    let outcome = table.receiveTrailers(callID: id, error: failed)
    #expect(Self.error(outcome?.1) == failed)
  }

  @Test("frames for a call that ended here are ignored")
  func lateFrames() throws {
    var table = Table()
    let id = try Self.open(&table, "a")
    #expect(table.end(callID: id) == "a")
    guard case .none = table.receiveMessage(callID: id, payload: [1]) else { Issue.record("late message used"); return }
    #expect(table.receiveTrailers(callID: id, error: nil) == nil)
    #expect(table.receiveTrailers(callID: 99, error: nil) == nil)
  }

  @Test("GOAWAY fails the calls above its last id as not processed, lets the rest finish, then drains")
  func goAway() throws {
    var table = Table()
    for name in ["a", "b", "c", "d"] { _ = try Self.open(&table, name) }
    #expect(table.goAway(lastCallID: 2, message: "bye") == ["c", "d"])
    #expect(table.phase == .goingAway(lastCallID: 2))
    #expect(!table.isUsable)
    guard case .failure(let refused) = table.open("e", kind: .unary, target: "server:1") else {
      Issue.record("a call started after GOAWAY"); return
    }
    #expect(refused == .connectionEnded(target: "server:1", reason: "server going away: bye"))
    #expect(RPCError(refused).isCallNotProcessed)
    // A second GOAWAY can only lower the last id.
    #expect(table.goAway(lastCallID: 5, message: "again") == [])
    #expect(table.phase == .goingAway(lastCallID: 2))
    _ = table.receiveMessage(callID: 1, payload: [1])
    _ = table.receiveTrailers(callID: 1, error: nil)
    #expect(!table.isDrained)
    _ = table.end(callID: 2)
    #expect(table.isDrained)
  }

  @Test("close fails every call in id order, keeps the first reason, refuses new calls")
  func close() throws {
    var table = Table()
    for name in ["a", "b", "c"] { _ = try Self.open(&table, name) }
    _ = table.end(callID: 2)
    #expect(table.close(reason: "lost") == ["a", "c"])
    #expect(table.close(reason: "again") == [])
    #expect(table.phase == .closed)
    #expect(!table.isDrained)
    #expect(table.endReason == "lost")
    guard case .failure(.connectionEnded(_, "lost")) = table.open("d", kind: .unary, target: "server:1") else {
      Issue.record("a call started on a closed table"); return
    }
  }

  @Test("transport failures map to one status each; only those that prove the call never ran are retryable")
  func transportErrorMapping() {
    let notProcessed: [TransportError] = [
      .unresolvableHost("nowhere"), .connectFailed(target: "h:1", reason: "Connection refused"),
      .connectTimedOut(target: "h:1", timeout: .seconds(1)), .tlsSetupFailed("bad CA"),
      .connectionEnded(target: "h:1", reason: nil), .refusedByGoAway(message: "draining"), .closedBeforePreface(reason: "reset"),
    ]
    for failure in notProcessed {
      let error = RPCError(failure)
      #expect(error.isCallNotProcessed, "\(failure)")
      #expect(error.transportError == failure)
      #expect(error.message == failure.description)
    }
    #expect(RPCError(.connectFailed(target: "h:1", reason: "Connection refused")).message == "cannot connect to h:1: Connection refused")
    #expect(RPCError(.connectionLost(reason: "reset")).code == .unavailable)
    #expect(!RPCError(.connectionLost(reason: "reset")).isCallNotProcessed)
    #expect(RPCError(.clientClosed).code == .unavailable)
    #expect(!RPCError(.clientClosed).isCallNotProcessed)
    #expect(RPCError(.protocolViolation("bad frame")).code == .internalError)
  }

  static func error(_ result: Result<[UInt8], RPCError>?) -> RPCError? {
    if case .failure(let error)? = result { return error }
    return nil
  }
}
