import CGuestAccessPosix
import GuestAccessWire

#if canImport(Glibc)
import Glibc
#endif

/// Reads the PROXY protocol v2 header at the start of an accepted connection
/// from a trusted load balancer, then hands the socket on with the client's
/// address as its peer. It reads exactly the header's bytes (first the fixed
/// prefix, then the length it announces), so the first byte after it (the
/// RPC preface or a TLS ClientHello) is left for the connection. A connection
/// that sends no valid header within `timeout` is closed. Loop thread only.
public final class ProxyHeaderReader: EventLoopHandler {
  /// What happened to an accepted socket.
  public enum Outcome {
    /// The header was read: serve the socket as coming from `peer`.
    case peer(String)
    /// No valid header in time (closed here); `reason` is for the log.
    case closed(reason: String)
  }

  private let fd: Int32
  private let peer: String
  private let loop: EventLoop
  private let completion: (Outcome) -> Void
  private var bytes: [UInt8] = []
  private var needed = ProxyHeader.prefixLength
  private var timer: LoopTimer?
  private var done = false
  private var registration: EventLoopRegistration?

  /// Starts reading the header of `fd` (accepted from `peer`) on `loop`;
  /// `completion` runs once, on the loop thread. Call on the loop thread.
  public static func start(fd: Int32, peer: String, loop: EventLoop, timeout: Duration, completion: @escaping (Outcome) -> Void) {
    let reader = ProxyHeaderReader(fd: fd, peer: peer, loop: loop, completion: completion)
    loop.assertInEventLoop()
    reader.registration = loop.register(fd: fd, events: ga_epollin, handler: reader)
    guard reader.registration != nil else {
      return reader.finish(.closed(reason: "cannot watch the socket"))
    }
    reader.timer = loop.schedule(at: .now + timeout) { [weak reader] in
      reader?.finish(.closed(reason: "no PROXY protocol header within \(timeout)"))
    }
    reader.handleEvents(ga_epollin)
  }

  private init(fd: Int32, peer: String, loop: EventLoop, completion: @escaping (Outcome) -> Void) {
    self.fd = fd
    self.peer = peer
    self.loop = loop
    self.completion = completion
    bytes.reserveCapacity(ProxyHeader.prefixLength)
  }

  func handleEvents(_ events: UInt32) {
    while !done {
      var chunk = [UInt8](repeating: 0, count: needed - bytes.count)
      let count = chunk.withUnsafeMutableBytes { ga_recv(fd, $0.baseAddress, $0.count) }
      if count == 0 { return finish(.closed(reason: "closed before its PROXY protocol header")) }
      if count < 0 {
        let error = ga_errno()
        if error == EAGAIN || error == EWOULDBLOCK { return }
        return finish(.closed(reason: "read failed before the PROXY protocol header (errno \(error))"))
      }
      bytes += chunk[..<count]
      guard bytes.count == needed else { continue }
      switch ProxyHeader.parse(bytes) {
      case .needBytes(let length): needed = length
      case .complete(let header): return finish(.peer(header.source ?? peer))
      case .invalid(let violation): return finish(.closed(reason: violation.reason))
      }
    }
  }

  private func finish(_ outcome: Outcome) {
    guard !done else { return }
    done = true
    timer?.cancel()
    if let registration { loop.deregister(registration) }
    if case .closed = outcome { Glibc.close(fd) }
    completion(outcome)
  }
}
