import Foundation
import GuestAccessProto
import Testing

/// Interoperability with the reference implementation, `protoc`, for every
/// message type: one batched protoc run decodes what we encode, another
/// encodes protoc's text back, and our decoder must read it field for field.
@Suite struct ReferenceInteropTests {
  @Test func everyFullSampleCrossesProtocBothWays() async throws {
    try await checkThroughProtoc(allMessageSamples, expectEveryFieldNamed: true)
  }

  @Test func everyDefaultMessageCrossesProtocBothWays() async throws {
    try await checkThroughProtoc(allMessageSamples.map { type(of: $0).init() }, expectEveryFieldNamed: false)
  }

  @Test func unrecognizedEnumNumbersCrossProtocBothWays() async throws {
    #expect(!allUnrecognizedEnumSamples.isEmpty)
    try await checkThroughProtoc(allUnrecognizedEnumSamples, expectEveryFieldNamed: true)
  }

  @Test func fieldNameTableMatchesTheSwiftTypes() {
    #expect(protoFieldNames.count == allMessageSamples.count)
    for sample in allMessageSamples {
      let name = type(of: sample).protoName
      #expect(protoFieldNames[name]?.count == Mirror(reflecting: sample).children.count, "\(name)")
    }
  }

  /// Encodes `messages` with our codec into one batch, has protoc decode it
  /// to text and encode that text again, then decodes protoc's bytes with
  /// our codec.
  private func checkThroughProtoc(_ messages: [any ProtoMessage], expectEveryFieldNamed: Bool) async throws {
    let batch = try InteropBatch()
    defer { batch.remove() }
    let ordered = batch.canonicalOrder(messages)

    // Ours → protoc: the text names every field of every message.
    let text = try await batch.protocDecode(batch.encode(messages))
    let blocks = InteropBatch.textBlocks(text)
    try #require(blocks.count == ordered.count, "protoc printed \(blocks.count) of \(ordered.count) messages")
    for (block, message) in zip(blocks, ordered) {
      let name = type(of: message).protoName
      #expect(block.field == batch.fieldNumber(of: type(of: message)), "\(name)")
      guard expectEveryFieldNamed else { continue }
      #expect(!block.lines.isEmpty, "protoc printed nothing for \(name)")
      for field in protoFieldNames[name] ?? [] {
        let named = block.lines.contains { $0.hasPrefix("\(field): ") || $0 == "\(field) {" }
        #expect(named, "protoc's text for \(name) lacks field \(field)")
      }
    }

    // protoc → ours: protoc re-encodes its text; we decode every message.
    let bytes = try await batch.protocEncode(text)
    let fields = try #require(WireFormat.fields(bytes), "protoc's batch is not well-formed")
    try #require(fields.count == ordered.count)
    for (field, message) in zip(fields, ordered) {
      #expect(field.number == UInt64(batch.fieldNumber(of: type(of: message))))
      try checkDecodes(bytes[field.value], as: message)
    }
  }

  /// Our decoder reads protoc's `bytes` as `expected`, and protoc's bytes are
  /// exactly what our encoder writes.
  private func checkDecodes<M: ProtoMessage>(_ bytes: ArraySlice<UInt8>, as expected: M) throws {
    let decoded = try M(serializedBytes: bytes)
    #expect(decoded == expected, "\(M.protoName) decoded from protoc's bytes differs")
    #expect(Array(bytes) == expected.serializedBytes(), "\(M.protoName): protoc and protobuf-c encode differently")
  }
}
