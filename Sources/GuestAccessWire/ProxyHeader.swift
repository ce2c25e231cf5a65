import GuestAccessCore

/// The PROXY protocol version 2 header a load balancer (HAProxy
/// `send-proxy-v2`, AWS NLB, Envoy, …) sends at the start of a TCP connection,
/// before any byte of the client's: who the client is, since the server
/// itself sees only the balancer's address.
///
/// Only the binary version 2 is taken. A header is a 16-byte prefix (the
/// 12-byte signature, version and command, address family and transport,
/// length of the rest) followed by that many bytes: the addresses, then
/// optional TLVs, which are skipped. Pure parsing, no I/O: the transport reads
/// exactly the bytes `parse` asks for, so nothing after the header is consumed.
public struct ProxyHeader: Hashable, Sendable {
  /// The 12 bytes every version 2 header starts with.
  public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
  /// The fixed part: signature, version/command, family/transport, length.
  public static let prefixLength = 16
  /// The longest header taken (prefix and addresses with TLVs); longer ones
  /// are refused so that a header never holds more than this per connection.
  public static let maxLength = 16 + 512

  /// The client's address as `host:port` (`[v6]:port` for IPv6), as the
  /// transport writes an accepted peer; nil for a `LOCAL` header (the
  /// balancer's own health check) or an address family this server does not
  /// use (UNIX, unspecified): the connection then keeps its real peer.
  public var source: String?

  /// A header naming `source` (nil: LOCAL or an unused address family).
  public init(source: String?) {
    self.source = source
  }

  /// What `parse` made of the bytes read so far.
  public enum Parse: Hashable, Sendable {
    /// The header is `length` bytes in all; read until that many are in.
    case needBytes(length: Int)
    /// The whole header is in `bytes` (and nothing after it).
    case complete(ProxyHeader)
    /// Not a version 2 header, or a malformed one: close the connection.
    case invalid(ProtocolViolation)
  }

  /// Parses the bytes read so far from the start of a connection: at least
  /// the prefix is needed to know the whole length.
  public static func parse(_ bytes: [UInt8]) -> Parse {
    let known = min(bytes.count, signature.count)
    guard bytes[..<known].elementsEqual(signature[..<known]) else {
      return .invalid(ProtocolViolation("expected a PROXY protocol v2 header from this address"))
    }
    guard bytes.count >= prefixLength else { return .needBytes(length: prefixLength) }
    let versionCommand = bytes[12]
    guard versionCommand >> 4 == 2 else {
      return .invalid(ProtocolViolation("PROXY protocol version \(versionCommand >> 4) is not supported (only 2)"))
    }
    let command = versionCommand & 0x0F
    guard command <= 1 else { return .invalid(ProtocolViolation("unknown PROXY protocol command \(command)")) }
    let length = prefixLength + Int(bytes[14]) << 8 + Int(bytes[15])
    guard length <= maxLength else {
      return .invalid(ProtocolViolation("PROXY protocol header of \(length) bytes is over \(maxLength)"))
    }
    guard bytes.count >= length else { return .needBytes(length: length) }
    guard bytes.count == length else { return .invalid(ProtocolViolation("read past the PROXY protocol header")) }
    // LOCAL: the balancer speaks for itself (health checks); keep the real peer.
    guard command == 1 else { return .complete(ProxyHeader(source: nil)) }
    let body = bytes[prefixLength...]
    switch bytes[13] {
    case 0x11, 0x12:  // TCP or UDP over IPv4: source, destination, source port, destination port
      guard body.count >= 12 else { return .invalid(ProtocolViolation("PROXY protocol IPv4 addresses are cut short")) }
      let port = Int(body[body.startIndex + 8]) << 8 + Int(body[body.startIndex + 9])
      return .complete(ProxyHeader(source: PeerAddress.text(of: Array(body.prefix(4))).map { PeerAddress.peer(host: $0, port: port) }))
    case 0x21, 0x22:  // over IPv6
      guard body.count >= 36 else { return .invalid(ProtocolViolation("PROXY protocol IPv6 addresses are cut short")) }
      let port = Int(body[body.startIndex + 32]) << 8 + Int(body[body.startIndex + 33])
      return .complete(ProxyHeader(source: PeerAddress.text(of: Array(body.prefix(16))).map { PeerAddress.peer(host: $0, port: port) }))
    default:
      return .complete(ProxyHeader(source: nil))
    }
  }

  /// The header a balancer would send for a TCP connection from `source` to
  /// `destination` (numeric addresses of one family): for tests and tools.
  public static func encode(source: (host: String, port: UInt16), destination: (host: String, port: UInt16)) -> [UInt8]? {
    guard let from = PeerAddress.bytes(of: source.host), let to = PeerAddress.bytes(of: destination.host), from.count == to.count else { return nil }
    var header = signature
    header.append(0x21)
    header.append(from.count == 4 ? 0x11 : 0x21)
    let length = from.count * 2 + 4
    header += [UInt8(length >> 8), UInt8(length & 0xFF)]
    header += from + to
    header += [UInt8(source.port >> 8), UInt8(source.port & 0xFF), UInt8(destination.port >> 8), UInt8(destination.port & 0xFF)]
    return header
  }
}
