import GuestAccessTLS
import GuestAccessTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A TLS client driven by hand over a blocking socket: it completes the
/// handshake, then sends whatever a hostile test wants (a preface or not,
/// frames byte by byte, garbage) inside the TLS session.
final class RawTLSConnection: @unchecked Sendable {
  private let fd: Int32
  private let context: TLSContext
  private let session: TLSSession

  private init(fd: Int32, context: TLSContext, session: TLSSession) {
    self.fd = fd
    self.context = context
    self.session = session
  }

  deinit { close(fd) }

  /// Connects to `port` on 127.0.0.1 and completes a handshake trusting `caFile`
  /// (reads give up after `timeout` seconds).
  static func connect(port: Int, caFile: String, timeout: Int = 5) async throws -> RawTLSConnection {
    try await blocking {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port).bigEndian)
      inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
      guard connected == 0 else {
        close(fd)
        throw RawTLSError("cannot connect to 127.0.0.1:\(port)")
      }
      var limit = timeval(tv_sec: timeout, tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
      let context = try TLSContext(client: TLSConfiguration(caFile: caFile, serverName: "localhost"))
      let session = try TLSSession(context: context, fd: fd, server: false, serverName: "localhost")
      let connection = RawTLSConnection(fd: fd, context: context, session: session)
      // On a blocking socket the handshake finishes or fails; "want" means the read timed out.
      switch session.handshake() {
        case .done: return connection
        case .wantRead, .wantWrite: throw RawTLSError("the TLS handshake timed out")
        case .closed: throw RawTLSError("the server closed the connection during the handshake")
        case .failed(let reason): throw RawTLSError(reason)
      }
    }
  }

  /// Sends all of `bytes` inside the session; false when the server closed the connection.
  @discardableResult
  func send(_ bytes: [UInt8]) async -> Bool {
    (try? await blocking { () -> Bool in
      var offset = 0
      while offset < bytes.count {
        switch bytes.withUnsafeBytes({ self.session.write($0.baseAddress! + offset, count: $0.count - offset) }) {
        case .done(let count): offset += count
        case .wantRead, .wantWrite, .closed, .failed: return false
        }
      }
      return true
    }) ?? false
  }

  /// Reads and drops what the server sends until it closes the connection;
  /// false when nothing closed it within the read timeout.
  func waitForClose() async -> Bool {
    (try? await blocking { () -> Bool in
      var buffer = [UInt8](repeating: 0, count: 4096)
      while true {
        switch buffer.withUnsafeMutableBytes({ self.session.read(into: $0) }) {
        case .done: continue
        case .closed, .failed: return true
        case .wantRead, .wantWrite: return false
        }
      }
    }) ?? false
  }
}

/// A raw TLS client's failure.
struct RawTLSError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
