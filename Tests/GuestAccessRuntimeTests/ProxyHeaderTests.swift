import GuestAccessCore
import GuestAccessWire
import Testing

/// The PROXY protocol v2 parser, byte by byte, and the address ranges that
/// say which balancers are trusted to send it.
@Suite("PROXY protocol v2 header and address ranges")
struct ProxyHeaderTests {
  @Test func aTCP4HeaderNamesTheClient() {
    let header = ProxyHeader.encode(source: ("198.51.100.7", 40_001), destination: ("10.0.0.1", 7700))!
    #expect(header.count == 28)
    #expect(ProxyHeader.parse(Array(header.prefix(5))) == .needBytes(length: 16))
    #expect(ProxyHeader.parse(Array(header.prefix(16))) == .needBytes(length: 28))
    #expect(ProxyHeader.parse(header) == .complete(ProxyHeader(source: "198.51.100.7:40001")))
  }

  @Test func aTCP6HeaderNamesTheClientInBrackets() {
    let header = ProxyHeader.encode(source: ("2001:db8::7", 443), destination: ("2001:db8::1", 7700))!
    #expect(header.count == 52)
    #expect(ProxyHeader.parse(header) == .complete(ProxyHeader(source: "[2001:db8::7]:443")))
    #expect(PeerAddress.host(of: "[2001:db8::7]:443") == "2001:db8::7")
  }

  @Test func tlvsAfterTheAddressesAreSkipped() {
    var header = ProxyHeader.encode(source: ("192.0.2.1", 1), destination: ("192.0.2.2", 2))!
    header[15] += 7  // one TLV: type, two length bytes, four value bytes
    header += [0x04, 0x00, 0x04, 1, 2, 3, 4]
    #expect(ProxyHeader.parse(header) == .complete(ProxyHeader(source: "192.0.2.1:1")))
  }

  @Test func localAndUnspecifiedKeepTheRealPeer() {
    #expect(ProxyHeader.parse(ProxyHeader.signature + [0x20, 0x00, 0x00, 0x00]) == .complete(ProxyHeader(source: nil)))
    // PROXY over AF_UNIX: not an address this server keys limits on.
    let unix = ProxyHeader.signature + [0x21, 0x31, 0x00, 0xD8] + [UInt8](repeating: 0, count: 216)
    #expect(ProxyHeader.parse(unix) == .complete(ProxyHeader(source: nil)))
  }

  @Test func malformedHeadersAreRefused() {
    func refused(_ bytes: [UInt8]) -> Bool {
      if case .invalid = ProxyHeader.parse(bytes) { return true }
      return false
    }
    #expect(refused(Array("PRI * HTTP/2.0".utf8)))  // not a header at all
    #expect(refused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n".utf8)))  // version 1 (text) is not taken
    #expect(refused(ProxyHeader.signature + [0x10, 0x11, 0x00, 0x0C]))  // version 1 in the binary form
    #expect(refused(ProxyHeader.signature + [0x22, 0x11, 0x00, 0x0C]))  // command 2
    #expect(refused(ProxyHeader.signature + [0x21, 0x11, 0xFF, 0xFF]))  // longer than the limit
    #expect(refused(ProxyHeader.signature + [0x21, 0x11, 0x00, 0x04, 1, 2, 3, 4]))  // IPv4 addresses cut short
    #expect(refused(ProxyHeader.signature + [0x21, 0x21, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12)))  // IPv6 cut short
  }

  @Test func addressRanges() {
    let ranges = AddressRange.list("10.0.0.0/8, 192.0.2.5,2001:db8::/32")!
    #expect(ranges.map(\.description) == ["10.0.0.0/8", "192.0.2.5/32", "2001:db8::/32"])
    #expect(ranges[0].contains("10.200.3.4"))
    #expect(!ranges[0].contains("11.0.0.1"))
    #expect(ranges[0].contains("::ffff:10.1.1.1"))  // an IPv4 client of a dual-stack socket
    #expect(ranges[1].contains("192.0.2.5") && !ranges[1].contains("192.0.2.6"))
    #expect(ranges[2].contains("2001:db8:ffff::1") && !ranges[2].contains("2001:db9::1"))
    #expect(!ranges[2].contains("not-an-address"))
    #expect(AddressRange("10.0.0.1/33") == nil)
    #expect(AddressRange("10.0.0.0/") == nil)
    #expect(AddressRange("example.com") == nil)
    #expect(AddressRange.list("10.0.0.1,nope") == nil)
    #expect(AddressRange("10.1.2.3/8")!.description == "10.0.0.0/8")  // host bits cleared
  }
}
