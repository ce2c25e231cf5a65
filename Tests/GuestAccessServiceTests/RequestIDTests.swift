import GuestAccessCore
import GuestAccessServer
import Testing

/// Request ids as a call sees them (the audit log's end of it is
/// `AuditIntegrityTests.eventsCarryTheRequestID`).
@Suite("Request ids")
struct RequestIDTests {
  static func context(_ metadata: Metadata = Metadata()) -> ServerContext {
    ServerContext(method: MethodDescriptor(service: "test.IDs", method: "Call"), metadata: metadata, deadline: nil, peer: "in-process")
  }

  @Test func aMadeIDIsStableWithinACallAndUniqueAcrossCalls() {
    let contexts = (0..<2_000).map { _ in Self.context() }
    let ids = contexts.map(\.requestID)
    #expect(Set(ids).count == ids.count)
    #expect(zip(contexts, ids).allSatisfy { $0.requestID == $1 })
    for id in ids.prefix(50) {
      #expect(id.hasPrefix("req_") && id.count == 36)
      #expect(id.dropFirst(4).allSatisfy { "0123456789abcdef".contains($0) })
    }
  }

  /// Consecutive calls' ids share no visible order: neither half counts up.
  @Test func aMadeIDDoesNotRevealTheCallCount() {
    let ids = (0..<64).map { _ in Self.context().requestID }
    let firstHalves = ids.map { UInt64($0.dropFirst(4).prefix(16), radix: 16)! }
    let secondHalves = ids.map { UInt64($0.suffix(16), radix: 16)! }
    for halves in [firstHalves, secondHalves] {
      let increasing = zip(halves, halves.dropFirst()).filter { $0 < $1 }.count
      #expect(increasing > 10 && increasing < 53, "\(increasing) of 63 steps increase")
    }
  }

  @Test func theCallersIDWinsWhenUsable() {
    #expect(Self.context(["x-request-id": "trace-1"]).requestID == "trace-1")
    #expect(Self.context(["request-id": "trace-2"]).requestID == "trace-2")
    #expect(Self.context(["x-request-id": "a", "request-id": "b"]).requestID == "a")
    #expect(Self.context(["x-request-id": String(repeating: "r", count: 300)]).requestID == String(repeating: "r", count: 128))
    for unusable in ["", "tab\there", "é"] {
      #expect(Self.context(["x-request-id": unusable]).requestID.hasPrefix("req_"), "\(unusable)")
    }
  }
}
