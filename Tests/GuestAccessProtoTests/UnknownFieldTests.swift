import GuestAccessProto
import Testing

/// Fields the schema does not declare are skipped, whatever their wire type
/// and wherever they appear, and are dropped on re-encoding.
@Suite struct UnknownFieldTests {
  /// Unknown fields of every decodable wire type, on numbers no message uses.
  static let unknownFields: [(name: String, bytes: [UInt8])] = [
    ("varint", WireFormat.tag(1000, WireFormat.varint) + WireFormat.varint(.max)),
    ("small varint", WireFormat.tag(99, WireFormat.varint) + [0x01]),
    ("length-delimited", WireFormat.lengthDelimited(4321, Array("unknown payload ü".utf8))),
    ("empty length-delimited", WireFormat.lengthDelimited(77, [])),
    ("nested message", WireFormat.lengthDelimited(5000, WireFormat.lengthDelimited(1, [0x08, 0x01]))),
    ("fixed32", WireFormat.tag(2000, WireFormat.fixed32) + [0xDE, 0xAD, 0xBE, 0xEF]),
    ("fixed64", WireFormat.tag(3000, WireFormat.fixed64) + [1, 2, 3, 4, 5, 6, 7, 8]),
    ("largest field number", WireFormat.tag((1 << 29) - 1, WireFormat.varint) + [0x2A]),
  ]

  @Test(arguments: MessageCase.all)
  func unknownFieldsAreSkipped(_ sample: MessageCase) throws {
    try checkSampleAndDefault(sample.message)
  }

  private func checkSampleAndDefault<M: ProtoMessage>(_ sample: M) throws {
    try check(sample)
    try check(M())
  }

  private func check<M: ProtoMessage>(_ message: M) throws {
    let valid = message.serializedBytes()
    let all = Self.unknownFields.flatMap(\.bytes)
    for (name, unknown) in Self.unknownFields {
      #expect(try M(serializedBytes: valid + unknown) == message, "\(M.protoName): appended \(name)")
      #expect(try M(serializedBytes: unknown + valid) == message, "\(M.protoName): prepended \(name)")
    }
    let decoded = try M(serializedBytes: all + valid + all)
    #expect(decoded == message, "\(M.protoName): every unknown field around the message")
    #expect(decoded.serializedBytes() == valid, "\(M.protoName): unknown fields are dropped on re-encoding")
    // Between the message's own fields, too.
    if let fields = WireFormat.fields(valid), fields.count > 1 {
      let middle = fields[fields.count / 2].range.lowerBound
      let spliced = Array(valid[..<middle]) + all + Array(valid[middle...])
      #expect(try M(serializedBytes: spliced) == message, "\(M.protoName): unknown fields in the middle")
    }
  }
}
