#if canImport(Glibc)
import Glibc
#endif

/// Sends what the socket `fd` takes of `bytes` within `timeout`, without
/// blocking on a peer that stopped reading; returns the bytes sent. For
/// hostile-client tests that flood a server and measure how much it took.
public func sendUntilBlocked(_ fd: Int32, _ bytes: [UInt8], timeout: Duration) -> Int {
  let deadline = ContinuousClock.now + timeout
  var offset = 0
  while offset < bytes.count && ContinuousClock.now < deadline {
    let sent = bytes.withUnsafeBytes {
      send(fd, $0.baseAddress! + offset, min($0.count - offset, 1 << 16), Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
    }
    if sent > 0 {
      offset += sent
    } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
      usleep(1000)
    } else {
      break
    }
  }
  return offset
}
