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
}
