import GuestAccessCore
import GuestAccessProto
import Testing

@Suite("Metadata")
struct MetadataTests {
  @Test("valid keys and values pass", arguments: ["authorization", "tenant", "x-request-id", "a.b_c-9", "trace-bin"])
  func validKeys(key: String) throws {
    var metadata = Metadata()
    if key.hasSuffix("-bin") { metadata.add(key, binary: [0, 255, 10]) } else { metadata.add(key, "value with spaces\tand tab") }
    try metadata.validate()
  }

  @Test("bad keys are INVALID_ARGUMENT", arguments: ["", "has space", "colon:", "ümlaut", "slash/", "Upper\u{0}"])
  func badKeys(key: String) {
    let metadata = Metadata(entries: [MetadataEntry(key: key, value: "v")])
    #expect(throws: RPCError.self) { try metadata.validate() }
    do { try metadata.validate() } catch { #expect(error.code == .invalidArgument) }
  }

  @Test("keys are lower-cased when added")
  func lowerCased() throws {
    var metadata: Metadata = ["X-Request-ID": "1"]
    metadata.add("Tenant", "t1")
    #expect(metadata["x-request-id"] == "1")
    #expect(metadata["TENANT"] == "t1")
    // Lower-case look-ups skip the case mapping; other keys still get it, non-ASCII included.
    #expect(metadata["X-Request-Id"] == "1" && metadata.values("x-request-id") == ["1"])
    var unicode = Metadata()
    unicode.add("ÄRGER", "a")
    #expect(unicode["Ärger"] == "a" && unicode.values("ärger") == ["a"])
    try metadata.validate()
  }

  @Test("text values must be printable ASCII")
  func badValues() {
    for value in ["new\nline", "nul\u{0}", "del\u{7F}", "é"] {
      var metadata = Metadata()
      metadata.add("k", value)
      #expect(throws: RPCError.self) { try metadata.validate() }
    }
  }

  @Test("more than the limit is RESOURCE_EXHAUSTED")
  func limit() throws {
    var metadata = Metadata()
    metadata.add("big", String(repeating: "a", count: 16 * 1024 - 100))
    try metadata.validate()
    metadata.add("more", String(repeating: "a", count: 200))
    do {
      try metadata.validate()
      Issue.record("expected an error")
    } catch {
      #expect(error.code == .resourceExhausted)
    }
  }

  @Test("wire entries round-trip, binary for -bin keys")
  func entries() {
    var metadata = Metadata()
    metadata.add("a", "1")
    metadata.add("a", "2")
    metadata.add("blob-bin", binary: [0, 1, 2])
    let decoded = Metadata(entries: metadata.entries)
    #expect(decoded == metadata)
    #expect(decoded.values("a") == ["1", "2"])
    #expect(metadata.entries[2].binaryValue == [0, 1, 2])
    #expect(metadata.entries[2].value == "")
  }
}
