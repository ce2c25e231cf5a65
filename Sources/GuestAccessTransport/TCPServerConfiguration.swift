import GuestAccessCore

@_exported import GuestAccessTLS

/// Limits and timeouts of the TCP server transport.
public struct TCPServerConfiguration: Sendable, Hashable {
  /// Numeric address to bind, e.g. `127.0.0.1` or `::`.
  public var host: String
  /// Port to bind; 0 picks a free one.
  public var port: Int
  /// Open connections at most; more are answered with GOAWAY and closed.
  public var maxConnections: Int
  /// Open connections from one peer address (IP, whatever the port) at
  /// most; more are answered with GOAWAY RESOURCE_EXHAUSTED and closed.
  public var maxConnectionsPerPeer: Int
  /// Calls in flight per connection at most; more are refused with RESOURCE_EXHAUSTED.
  public var maxConcurrentCallsPerConnection: Int
  /// Calls running on one connection at once; further requests wait unread
  /// until one ends (their responses are what a client that does not read
  /// makes the server hold).
  public var maxRunningCallsPerConnection: Int
  /// Calls running at once for one client address, over all its connections;
  /// further requests of that address wait unread until one ends.
  public var maxRunningCallsPerPeer: Int
  /// Calls in flight (waiting for their request or running) on a connection
  /// none of whose calls has authenticated yet (`ServerContext.markConnectionAuthenticated`);
  /// further requests wait unread until one ends. `nil`: no separate limit
  /// (a server without authentication).
  public var maxCallsBeforeAuthentication: Int?
  /// Header bytes of the calls on one connection whose HEADERS arrived and
  /// whose request message has not; further requests wait unread (a first
  /// call is always taken).
  public var maxPendingHeaderBytes: Int
  /// Response bytes queued for one connection above which it stops reading
  /// requests until the client has taken them.
  public var maxQueuedResponseBytes: Int
  /// A connection with queued responses of which the client takes nothing
  /// for this long is closed.
  public var sendTimeout: Duration
  /// Bytes of pending call headers and queued responses over every
  /// connection at most: above it no connection starts a call and those
  /// over `maxQueuedResponseBytes` are closed (see `MemoryBudget`).
  public var memoryBudget: Int
  /// Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED.
  public var maxReceiveMessageSize: Int
  /// Largest HEADERS payload (method and metadata) accepted.
  public var maxHeaderSize: Int
  /// Time a new connection has to send its preface.
  public var handshakeTimeout: Duration
  /// Time a started frame (or a call's request after its headers) has to arrive completely.
  public var frameTimeout: Duration
  /// A connection with no calls and no traffic for this long is closed (GOAWAY first).
  public var idleTimeout: Duration
  /// After this long without receiving anything, the server pings the client.
  public var keepaliveInterval: Duration
  /// A ping not answered within this time closes the connection.
  public var keepaliveTimeout: Duration
  /// Event loops serving connections (default one per core).
  public var loopCount: Int
  /// How long a loop polls for events before sleeping (`EventLoop.init(name:busyPoll:)`).
  public var busyPoll: Duration
  /// TLS for every connection (nil: plaintext); the handshake must finish
  /// within `handshakeTimeout`, together with the preface.
  public var tls: TLSServerOptions?
  /// How often the certificate, key and client CA files are checked for
  /// changes (and reloaded); nil checks only on `TCPServerTransport.reloadTLS()`.
  public var tlsReloadInterval: Duration?
  /// Load balancers trusted to say who the client is: a connection from one
  /// of these addresses must start with a PROXY protocol v2 header (within
  /// `handshakeTimeout`, else it is closed), and the header's source address
  /// becomes the connection's peer for every per-address limit. Connections
  /// from other addresses are served as they are; a header they send is not
  /// read (it fails the preface). Empty: no header is read from anyone.
  public var proxyProtocolSources: [AddressRange]

  /// Creates a configuration; every limit has a production default.
  public init(
    host: String = "127.0.0.1", port: Int = 7700, maxConnections: Int = 10_000, maxConnectionsPerPeer: Int = 256,
    maxConcurrentCallsPerConnection: Int = 4096, maxRunningCallsPerConnection: Int = 64, maxRunningCallsPerPeer: Int = 128,
    maxCallsBeforeAuthentication: Int? = nil,
    maxPendingHeaderBytes: Int = 256 << 10, maxQueuedResponseBytes: Int = 8 << 20, sendTimeout: Duration = .seconds(30),
    memoryBudget: Int = 256 << 20, maxReceiveMessageSize: Int = 4 << 20,
    maxHeaderSize: Int = 64 << 10, handshakeTimeout: Duration = .seconds(10), frameTimeout: Duration = .seconds(10),
    idleTimeout: Duration = .seconds(300), keepaliveInterval: Duration = .seconds(30),
    keepaliveTimeout: Duration = .seconds(10), loopCount: Int = EventLoopGroup.coreCount,
    busyPoll: Duration = EventLoopGroup.defaultBusyPoll, tls: TLSServerOptions? = nil, tlsReloadInterval: Duration? = nil,
    proxyProtocolSources: [AddressRange] = []
  ) {
    self.proxyProtocolSources = proxyProtocolSources
    self.tls = tls
    self.tlsReloadInterval = tlsReloadInterval
    self.host = host
    self.port = port
    self.maxConnections = maxConnections
    self.maxConnectionsPerPeer = maxConnectionsPerPeer
    self.maxConcurrentCallsPerConnection = maxConcurrentCallsPerConnection
    self.maxRunningCallsPerConnection = maxRunningCallsPerConnection
    self.maxRunningCallsPerPeer = maxRunningCallsPerPeer
    self.maxCallsBeforeAuthentication = maxCallsBeforeAuthentication
    self.maxPendingHeaderBytes = maxPendingHeaderBytes
    self.maxQueuedResponseBytes = maxQueuedResponseBytes
    self.sendTimeout = sendTimeout
    self.memoryBudget = memoryBudget
    self.maxReceiveMessageSize = maxReceiveMessageSize
    self.maxHeaderSize = maxHeaderSize
    self.handshakeTimeout = handshakeTimeout
    self.frameTimeout = frameTimeout
    self.idleTimeout = idleTimeout
    self.keepaliveInterval = keepaliveInterval
    self.keepaliveTimeout = keepaliveTimeout
    self.loopCount = loopCount
    self.busyPoll = busyPoll
  }
}

extension Duration {
  var nanoseconds: UInt64 {
    UInt64(max(0, components.seconds)) * 1_000_000_000 + UInt64(max(0, components.attoseconds) / 1_000_000_000)
  }
}
