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

  @Test func stringsAreCutAtTheFirstNULCharacter() throws {
    // Encoding: protobuf-c measures the string with strlen.
    let entry = MetadataEntry(key: "tenant", value: "before\u{0}after")
    #expect(try MetadataEntry(serializedBytes: entry.serializedBytes()).value == "before")
    // Decoding: a NUL byte sent by another implementation ends the string too.
    let wire = WireFormat.lengthDelimited(2, Array("before\u{0}after".utf8))
    #expect(try MetadataEntry(serializedBytes: wire).value == "before")
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
