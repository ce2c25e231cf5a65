import GuestAccessCore
import GuestAccessProto
import GuestAccessWire
import Testing

/// The byte examples in docs/PROTOCOL.md §13 are what the encoders produce.
@Suite("docs/PROTOCOL.md examples")
struct DocumentedBytesTests {
  static func hex(_ text: String) -> [UInt8] {
    text.split(separator: " ").map { UInt8($0, radix: 16)! }
  }

  @Test("Health.Check request")
  func healthCheckRequest() {
    var bytes = Preface.bytes
    FrameEncoder.append(.headers, callID: 1, message: CallHeaders(method: "/guestaccess.v1.Health/Check"), to: &bytes)
    FrameEncoder.append(.message, flags: .endStream, callID: 1, message: HealthCheckRequest(), to: &bytes)
    #expect(bytes == Self.hex("""
      47 41 52 50 01 00 00 00 00 00 00 1e 01 00 00 00 00 00 00 01 0a 1c 2f 67 75 65 73 74 61 63 63 65 \
      73 73 2e 76 31 2e 48 65 61 6c 74 68 2f 43 68 65 63 6b 00 00 00 00 02 01 00 00 00 00 00 01
      """))
    #expect(bytes.count == 62)
    var timed: [UInt8] = []
    CallHeaders(method: "/guestaccess.v1.Health/Check", timeoutMicros: 250_000).serialize(into: &timed)
    #expect(timed.suffix(4) == Self.hex("18 90 a1 0f")[...])
  }

  @Test("Health.Check response and errors")
  func healthCheckResponse() {
    var bytes: [UInt8] = []
    FrameEncoder.append(.message, callID: 1, message: HealthCheckResponse(status: .serving), to: &bytes)
    FrameEncoder.append(.trailers, callID: 1, message: Trailers(), to: &bytes)
    #expect(bytes == Self.hex("00 00 00 02 02 00 00 00 00 00 00 01 08 01 00 00 00 00 03 00 00 00 00 00 00 01"))
    let notFound = RPCError(code: .notFound, message: "unknown service x").trailers.serializedBytes()
    #expect(notFound.prefix(7) == Self.hex("08 05 12 11 75 6e 6b")[...])
    #expect(notFound.count == 2 + 2 + 17, "no empty details on the wire")
  }

  @Test("GOAWAY")
  func goAway() {
    var bytes: [UInt8] = []
    FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: 7, code: 0, message: "server shutting down"), to: &bytes)
    #expect(bytes == Self.hex("""
      00 00 00 18 06 00 00 00 00 00 00 00 08 07 1a 14 73 65 72 76 65 72 20 73 68 75 74 74 69 6e 67 20 64 6f 77 6e
      """))
  }
}
