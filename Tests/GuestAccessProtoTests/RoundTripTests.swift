import Foundation
import GuestAccessProto
import Testing

/// Encode → decode round trips of every message type.
@Suite struct RoundTripTests {
  @Test func everyMessageTypeHasASample() {
    #expect(allMessageSamples.count >= 100)
    let names = allMessageSamples.map { type(of: $0).protoName }
    #expect(Set(names).count == names.count)
    #expect(names.allSatisfy { $0.hasPrefix("guestaccess.v1.") })
  }

  @Test(arguments: MessageCase.all)
  func fullSampleRoundTrips(_ sample: MessageCase) throws {
    try checkRoundTrip(sample.message)
  }

  @Test(arguments: MessageCase.all)
  func defaultMessageRoundTrips(_ sample: MessageCase) throws {
    try checkDefault(of: sample.message)
  }

  @Test(arguments: MessageCase.all)
  func decodesFromSlicesAndAppendsToBuffers(_ sample: MessageCase) throws {
    try checkBuffers(sample.message)
  }

  @Test(arguments: MessageCase.all)
  func codableRoundTrips(_ sample: MessageCase) throws {
    try checkCodable(sample.message)
  }

  @Test func fieldValuesSurviveExactly() throws {
    let entry = MetadataEntry(key: "trace-bin", value: "", binaryValue: [0, 0xFF, 0, 7])
    let headers = CallHeaders(
      method: "/guestaccess.v1.InvitationService/CreateInvitation",
      metadata: [entry, MetadataEntry(key: "tenant", value: "contoso — ü✓ 🎉")],
      timeoutMicros: .max)
    let back = try CallHeaders(serializedBytes: headers.serializedBytes())
    #expect(back.metadata[0].binaryValue == [0, 0xFF, 0, 7])
    #expect(back.metadata[1].value == "contoso — ü✓ 🎉")
    #expect(back.timeoutMicros == .max)

    var user = User()
    user.createdAt = .min
    user.updatedAt = -1
    user.roles = [.globalAdmin, .unspecified, .userAdmin]
    user.accountEnabled = true
    let decoded = try User(serializedBytes: user.serializedBytes())
    #expect(decoded.createdAt == .min)
    #expect(decoded.updatedAt == -1)
    #expect(decoded.roles == [.globalAdmin, .unspecified, .userAdmin])
    #expect(decoded.accountEnabled)
  }

  // MARK: - Checks, generic over the message type

  private func checkRoundTrip<M: ProtoMessage>(_ message: M) throws {
    #expect(message != M(), "the sample must differ from the default")
    let bytes = message.serializedBytes()
    #expect(!bytes.isEmpty)
    #expect(message.serializedSize() == bytes.count)
    let decoded = try M(serializedBytes: bytes)
    #expect(decoded == message)
    #expect(decoded.serializedBytes() == bytes, "encoding is deterministic")
  }

  private func checkDefault<M: ProtoMessage>(of _: M) throws {
    let empty = M()
    #expect(empty.serializedBytes().isEmpty, "proto3 omits default fields")
    #expect(empty.serializedSize() == 0)
    #expect(try M(serializedBytes: [UInt8]()) == empty)
    #expect(try M(serializedBytes: empty.serializedBytes()) == empty)
  }

  private func checkBuffers<M: ProtoMessage>(_ message: M) throws {
    let bytes = message.serializedBytes()
    var buffer: [UInt8] = [0xDE, 0xAD]
    message.serialize(into: &buffer)
    #expect(Array(buffer.prefix(2)) == [0xDE, 0xAD])
    #expect(Array(buffer.dropFirst(2)) == bytes)
    // A slice that does not start at index 0 of its array.
    #expect(try M(serializedBytes: buffer[2...]) == message)
    let raw = try bytes.withUnsafeBytes { try M(serializedBytes: $0) }
    #expect(raw == message)
  }

  private func checkCodable<M: ProtoMessage>(_ message: M) throws {
    guard let codable = message as? any (ProtoMessage & Codable) else {
      Issue.record("\(M.protoName) is not Codable")
      return
    }
    try checkJSON(codable)
  }

  private func checkJSON<M: ProtoMessage & Codable>(_ message: M) throws {
    let json = try JSONEncoder().encode(message)
    #expect(try JSONDecoder().decode(M.self, from: json) == message)
  }
}
