import GuestAccessLocks

#if canImport(Glibc)
import Glibc
#endif

/// Why a `ProxyForwarder` could not start.
public enum ForwarderError: Error {
  case cannotListen(Int32)
}

/// A TCP forwarder in front of a test server that does what a load balancer
/// with `send-proxy-v2` does: for each connection it accepts on loopback, it
/// connects to the server from `source` (a loopback address such as
/// `127.0.0.2`, so that the server sees the balancer's address), writes the
/// bytes `header` gives (a PROXY header naming the client, or anything else a
/// test wants to try), then copies bytes both ways until either side closes.
/// Blocking sockets on threads of their own.
public final class ProxyForwarder: @unchecked Sendable {
  /// The port clients connect to.
  public let port: Int
  private let listener: Int32
  private let open = LockedValue(true)

  /// Listens on `127.0.0.1:0` and forwards to `127.0.0.1:targetPort`.
  public init(targetPort: Int, source: String, header: @escaping @Sendable () -> [UInt8]) throws {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = Self.address("127.0.0.1", port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
        bind(listener, raw, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, raw, &length) == 0
      }
    }
    guard ok else {
      close(listener)
      throw ForwarderError.cannotListen(errno)
    }
    port = Int(UInt16(bigEndian: address.sin_port))
    self.listener = listener
    let open = open
    DetachedThread.start(name: "test-forwarder") {
      while open.withLock({ $0 }) {
        let client = accept(listener, nil, nil)
        guard client >= 0 else { return }
        let upstream = Self.connect(from: source, to: targetPort)
        guard upstream >= 0 else {
          close(client)
          continue
        }
        let bytes = header()
        _ = bytes.withUnsafeBytes { send(upstream, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // The second pump to finish closes both sockets.
        let running = LockedValue(2)
        let finished: @Sendable () -> Void = {
          guard running.withLock({ $0 -= 1; return $0 }) == 0 else { return }
          close(client)
          close(upstream)
        }
        DetachedThread.start(name: "test-fwd-up") { Self.pump(from: client, to: upstream); finished() }
        DetachedThread.start(name: "test-fwd-down") { Self.pump(from: upstream, to: client); finished() }
      }
    }
  }

  /// Stops accepting (forwarded connections run until their ends close).
  public func stop() {
    open.withLock { $0 = false }
    shutdown(listener, Int32(SHUT_RDWR))
    close(listener)
  }

  private static func address(_ host: String, port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr(host)
    return address
  }

  private static func connect(from source: String, to port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var local = address(source, port: 0)
    var remote = address("127.0.0.1", port: port)
    let size = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
    let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, size) } }
    guard bound == 0, connected == 0 else {
      close(fd)
      return -1
    }
    return fd
  }

  /// Copies `from` to `to` until `from` ends; then ends `to`'s writing side
  /// (and closes `from`, whose other direction has its own pump).
  private static func pump(from: Int32, to: Int32) {
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
      guard count > 0 else { break }
      var offset = 0
      while offset < count {
        let sent = buffer.withUnsafeBytes { send(to, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
        guard sent > 0 else { break }
        offset += sent
      }
      guard offset == count else { break }
    }
    shutdown(to, Int32(SHUT_WR))
    shutdown(from, Int32(SHUT_RD))
  }
}
