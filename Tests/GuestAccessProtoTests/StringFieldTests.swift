import GuestAccessProto
import Testing

/// How string fields cross protobuf-c, whose strings are NUL-terminated
/// `char *` and are not checked for UTF-8.
@Suite struct StringFieldTests {
  @Test func unicodeSurvives() throws {
    let text = "Gabriel Carvalho — ü✓ 🎉 日本語 \u{10FFFF}"
    let entry = MetadataEntry(key: "k", value: text)
    #expect(try MetadataEntry(serializedBytes: entry.serializedBytes()).value == text)
  }

  @Test func encodingCutsAStringAtTheFirstNULCharacter() throws {
    // protobuf-c measures the string with strlen (documented in docs/PROTOCOL.md).
    let entry = MetadataEntry(key: "tenant", value: "before\u{0}after")
    #expect(try MetadataEntry(serializedBytes: entry.serializedBytes()).value == "before")
  }

  @Test func decodingRefusesANULByteInAStringInsteadOfCuttingIt() throws {
    // Sent by another implementation: refused, naming the field, rather than silently shortened.
    let wire = WireFormat.lengthDelimited(2, Array("before\u{0}after".utf8))
    #expect(throws: ProtoDecodingError.self) { try MetadataEntry(serializedBytes: wire) }
    do {
      _ = try MetadataEntry(serializedBytes: wire)
    } catch {
      #expect(error.reason == "string field value contains a NUL byte", "\(error)")
    }
    // Inside a nested message (CallHeaders.metadata[0].key) too.
    let nested = WireFormat.lengthDelimited(1, Array("/svc/M".utf8))
      + WireFormat.lengthDelimited(2, WireFormat.lengthDelimited(1, [0x61, 0, 0x62]))
    #expect(throws: ProtoDecodingError.self) { try CallHeaders(serializedBytes: nested) }
    // A NUL in a bytes field is data, not an error.
    let binary = WireFormat.lengthDelimited(1, Array("x-bin".utf8)) + WireFormat.lengthDelimited(3, [0, 1, 0])
    #expect(try MetadataEntry(serializedBytes: binary).binaryValue == [0, 1, 0])
  }

  @Test func invalidUTF8OnTheWireIsRepaired() throws {
    // protobuf-c does not validate UTF-8; Swift replaces bad sequences with U+FFFD.
    let wire = WireFormat.lengthDelimited(1, [0x61, 0xFF, 0xC3, 0x62])
    let decoded = try MetadataEntry(serializedBytes: wire)
    #expect(decoded.key == "a\u{FFFD}\u{FFFD}b")
    #expect(try MetadataEntry(serializedBytes: decoded.serializedBytes()) == decoded)
  }

  @Test func bytesFieldsKeepEveryByte() throws {
    let blob: [UInt8] = [0, 0, 0xFF, 0, 0xC3]
    let entry = MetadataEntry(key: "x-bin", binaryValue: blob)
    #expect(try MetadataEntry(serializedBytes: entry.serializedBytes()).binaryValue == blob)
  }
}
