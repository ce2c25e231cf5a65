#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on 127.0.0.1 that never accepts: the kernel completes
/// connections into its backlog, and nothing ever answers them.
final class SilentListener: Sendable {
  /// The bound port.
  let port: Int
  private let fd: Int32

  /// Binds a free port and listens.
  init() throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure("socket") }
    self.fd = fd
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
      _ = Glibc.close(fd)
      throw Failure("bind/listen")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    port = Int(UInt16(bigEndian: address.sin_port))
  }

  /// Stops listening.
  func close() {
    _ = Glibc.close(fd)
  }

  /// A socket call failed.
  struct Failure: Error {
    let call: String
    init(_ call: String) { self.call = call }
  }

  /// A port nothing listens on: bound, then closed again.
  static func unusedPort() throws -> Int {
    let listener = try SilentListener()
    listener.close()
    return listener.port
  }
}
