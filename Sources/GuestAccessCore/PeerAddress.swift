#if canImport(Glibc)
import Glibc
#endif

/// The client address of a peer string (`host:port` or `[v6]:port`), as the
/// per-address limits key it: the transport's connection and running-call
/// limits, the web listener's, and the redemption failures per source.
public enum PeerAddress {
  /// The address part of `peer`, without the port (and without the brackets of an IPv6 address).
  public static func host(of peer: String) -> String {
    if peer.hasPrefix("["), let close = peer.firstIndex(of: "]") { return String(peer[peer.index(after: peer.startIndex)..<close]) }
    guard let colon = peer.lastIndex(of: ":") else { return peer }
    return String(peer[..<colon])
  }

  /// The 4 or 16 bytes of a numeric IPv4 or IPv6 address; nil for anything else.
  public static func bytes(of host: String) -> [UInt8]? {
    var v4 = [UInt8](repeating: 0, count: 4)
    if inet_pton(AF_INET, host, &v4) == 1 { return v4 }
    var v6 = [UInt8](repeating: 0, count: 16)
    if inet_pton(AF_INET6, host, &v6) == 1 { return v6 }
    return nil
  }

  /// The text of a 4- or 16-byte address (`inet_ntop`); nil for another length.
  public static func text(of bytes: [UInt8]) -> String? {
    guard bytes.count == 4 || bytes.count == 16 else { return nil }
    var text = [CChar](repeating: 0, count: 64)
    let family = bytes.count == 4 ? AF_INET : AF_INET6
    guard bytes.withUnsafeBytes({ inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }) != nil else { return nil }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// `host:port`, or `[host]:port` for IPv6: the form accepted peers are written in.
  public static func peer(host: String, port: Int) -> String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
  }
}
