import GuestAccessCore

/// Limits and address of an HTTP listener.
public struct HTTPServerConfiguration: Sendable {
  /// Numeric IPv4 or IPv6 address to bind.
  public var host: String
  /// Port (0 picks a free one).
  public var port: Int
  /// Open connections at most; further ones are closed at once.
  public var maxConnections: Int = 1024
  /// Open connections per peer address at most.
  public var maxConnectionsPerPeer: Int = 64
  /// Request line and headers, bytes at most (431 beyond).
  public var maxHeaderBytes: Int = 16 * 1024
  /// Request body, bytes at most (413 beyond).
  public var maxBodyBytes: Int = 16 * 1024
  /// Time a request has to arrive completely once its first byte came (408 beyond).
  public var requestTimeout: Duration = .seconds(10)
  /// Time an idle kept-alive connection stays open.
  public var idleTimeout: Duration = .seconds(30)
  /// Requests answered per connection before it is closed (then the client reconnects).
  public var maxRequestsPerConnection: Int = 10_000
  /// Pipelined requests waiting on one connection at most.
  public var maxPipelined: Int = 16
  /// With TLS: time a new connection has to complete its TLS handshake.
  public var handshakeTimeout: Duration = .seconds(10)
  /// Load balancers trusted to say who the client is: a connection from one
  /// of these addresses must start with a PROXY protocol v2 header (within
  /// `handshakeTimeout`), whose source becomes the request's client address
  /// (per-address limits, redemption failures per source). Empty: none.
  public var proxyProtocolSources: [AddressRange] = []

  /// Creates a configuration.
  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  /// Parses `HOST:PORT` (`[::1]:80` for IPv6).
  public init(address: String) throws {
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
      throw HTTPServerError("an address must be HOST:PORT, got \(address)")
    }
    var host = String(address[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    self.init(host: host, port: port)
  }
}

/// A failure to start an HTTP listener.
public struct HTTPServerError: Error, CustomStringConvertible {
  /// What went wrong.
  public var description: String
  init(_ description: String) { self.description = description }
}
