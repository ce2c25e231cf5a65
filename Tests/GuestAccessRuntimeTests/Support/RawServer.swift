import GuestAccessTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A plain listening socket on a free loopback port, for testing the client
/// against a server that misbehaves on purpose.
final class RawServer: @unchecked Sendable {
  let fd: Int32
  let port: Int

  init() throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.fd = fd
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
      }
    }
    guard bound else { throw RawError.connect(errno) }
    port = Int(UInt16(bigEndian: address.sin_port))
    // accept() gives up after 5 s (stretched by TestTime.scale).
    var timeout = timeval(tv_sec: Int(TestTime.scaled(5)), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit {
    Glibc.close(fd)
  }

  /// The next connection.
  func accept() async throws -> RawConnection {
    let fd = self.fd
    let client = try await blocking { () throws -> Int32 in
      let client = Glibc.accept(fd, nil, nil)
      guard client >= 0 else { throw RawError.timeout }
      return client
    }
    return RawConnection(fd: client)
  }
}
