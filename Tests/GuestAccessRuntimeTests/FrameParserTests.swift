import GuestAccessProto
import GuestAccessWire
import Testing

@Suite("FrameParser")
struct FrameParserTests {
  /// A stream of frames: a HEADERS, a MESSAGE, an oversized MESSAGE, an empty PING and more.
  static func sampleStream() -> (bytes: [UInt8], events: [FrameEvent]) {
    var bytes: [UInt8] = []
    var events: [FrameEvent] = []
    func add(_ type: FrameType, flags: FrameFlags = [], callID: UInt32, payload: [UInt8]) {
      FrameEncoder.append(type, flags: flags, callID: callID, payload: payload, to: &bytes)
      let header = FrameHeader(length: UInt32(payload.count), type: type, flags: flags, callID: callID)
      events.append(payload.count > 64 ? .oversized(header) : .frame(Frame(header: header, payload: payload)))
    }
    var headers: [UInt8] = []
    CallHeaders(method: "/guestaccess.v1.Health/Check").serialize(into: &headers)
    add(.headers, callID: 1, payload: headers)
    add(.message, flags: .endStream, callID: 1, payload: [])
    add(.headers, callID: 2, payload: headers)
    add(.message, flags: .endStream, callID: 2, payload: Array(repeating: 0xAB, count: 200))
    add(.ping, callID: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8])
    add(.message, flags: .endStream, callID: 3, payload: Array(0..<64))
    add(.cancel, callID: 3, payload: [])
    return (bytes, events)
  }

  static func parse(_ chunks: [ArraySlice<UInt8>], maxPayload: Int = 64) throws -> [FrameEvent] {
    var parser = FrameParser(maxPayload: maxPayload)
    var events: [FrameEvent] = []
    for chunk in chunks {
      try Array(chunk).withUnsafeBytes { raw in
        try parser.parse(raw) { events.append($0) }
      }
    }
    #expect(!parser.isMidFrame)
    return events
  }

  @Test("every split point of the stream yields the same events")
  func splitAtEveryByte() throws {
    let (bytes, expected) = Self.sampleStream()
    for split in 0...bytes.count {
      let events = try Self.parse([bytes[..<split], bytes[split...]])
      #expect(events == expected, "split at \(split)")
    }
  }

  @Test("three-way splits and byte-by-byte feeding")
  func threeWayAndByteByByte() throws {
    let (bytes, expected) = Self.sampleStream()
    for first in stride(from: 0, through: bytes.count, by: 7) {
      for second in stride(from: first, through: bytes.count, by: 5) {
        #expect(try Self.parse([bytes[..<first], bytes[first..<second], bytes[second...]]) == expected)
      }
    }
    #expect(try Self.parse(bytes.indices.map { bytes[$0...$0] }) == expected)
  }

  @Test("append and next agree with parse")
  func appendAndNext() throws {
    let (bytes, expected) = Self.sampleStream()
    var parser = FrameParser(maxPayload: 64)
    var events: [FrameEvent] = []
    for byte in bytes {
      parser.append([byte])
      while let event = try parser.next() { events.append(event) }
    }
    #expect(events == expected)
  }

  @Test("an oversized payload is skipped without being buffered")
  func oversizedIsSkipped() throws {
    var parser = FrameParser(maxPayload: 1024)
    var header: [UInt8] = []
    FrameHeader(length: 10 << 20, type: .message, flags: .endStream, callID: 1).encode(into: &header)
    var events: [FrameEvent] = []
    try header.withUnsafeBytes { raw in try parser.parse(raw) { events.append($0) } }
    #expect(events.count == 1)
    #expect(parser.skippingBytes == 10 << 20)
    let chunk = [UInt8](repeating: 0, count: 64 * 1024)
    for _ in 0..<160 {
      try chunk.withUnsafeBytes { raw in try parser.parse(raw) { events.append($0) } }
      #expect(parser.bufferCapacity <= 4096)
    }
    #expect(parser.skippingBytes == 0)
    // The next frame parses normally.
    var ping: [UInt8] = []
    FrameEncoder.append(.ping, callID: 0, payload: [0, 0, 0, 0, 0, 0, 0, 9], to: &ping)
    try ping.withUnsafeBytes { raw in try parser.parse(raw) { events.append($0) } }
    #expect(events.count == 2)
    #expect(events.last == .frame(Frame(header: FrameHeader(length: 8, type: .ping, callID: 0), payload: [0, 0, 0, 0, 0, 0, 0, 9])))
  }

  @Test("whole frames leave no buffer behind; a large partial frame's buffer is freed")
  func noRetainedBuffer() throws {
    var parser = FrameParser(maxPayload: 1 << 20)
    var bytes: [UInt8] = []
    for id in 1...100 as ClosedRange<UInt32> {
      FrameEncoder.append(.message, flags: .endStream, callID: id, payload: [UInt8](repeating: 1, count: 300), to: &bytes)
    }
    try bytes.withUnsafeBytes { raw in try parser.parse(raw) { _ in } }
    #expect(parser.bufferCapacity == 0)
    var big: [UInt8] = []
    FrameEncoder.append(.message, flags: .endStream, callID: 101, payload: [UInt8](repeating: 2, count: 500_000), to: &big)
    var count = 0
    for start in stride(from: 0, to: big.count, by: 65536) {
      try Array(big[start..<min(start + 65536, big.count)]).withUnsafeBytes { raw in try parser.parse(raw) { _ in count += 1 } }
    }
    #expect(count == 1)
    #expect(parser.bufferCapacity <= 4096)
  }

  @Test("reserved bytes, unknown types are violations", arguments: [
    [0, 0, 0, 0, 2, 1, 0, 1, 0, 0, 0, 1] as [UInt8],
    [0, 0, 0, 0, 2, 1, 1, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0xFF, 0, 0, 0, 0, 0, 0, 1],
  ])
  func violations(header: [UInt8]) {
    var parser = FrameParser(maxPayload: 64)
    #expect(throws: ProtocolViolation.self) {
      try header.withUnsafeBytes { raw in try parser.parse(raw) { _ in } }
    }
    var incremental = FrameParser(maxPayload: 64)
    incremental.append(header)
    #expect(throws: ProtocolViolation.self) { try incremental.next() }
  }

  @Test("headers encode to the documented layout")
  func headerLayout() {
    var bytes: [UInt8] = []
    FrameHeader(length: 0x0102_0304, type: .message, flags: .endStream, callID: 0x0A0B_0C0D).encode(into: &bytes)
    #expect(bytes == [1, 2, 3, 4, 2, 1, 0, 0, 0x0A, 0x0B, 0x0C, 0x0D])
    #expect(Preface.bytes == [0x47, 0x41, 0x52, 0x50, 1, 0, 0, 0])
    #expect(throws: ProtocolViolation.self) { try Preface.validate([0x47, 0x41, 0x52, 0x50, 2, 0, 0, 0]) }
    #expect(throws: ProtocolViolation.self) { try Preface.validate(Array("GET / HT".utf8)) }
  }
}
