import CGuestAccessPosix

#if canImport(Glibc)
import Glibc
#endif

/// A listening socket on an event loop; accepts until the kernel has no more.
final class Listener: EventLoopHandler, @unchecked Sendable {
  let fd: Int32
  let loop: EventLoop
  private let onAccept: (Int32, String) -> Void
  private var open = true
  private var registration: EventLoopRegistration?

  init(fd: Int32, loop: EventLoop, onAccept: @escaping (Int32, String) -> Void) {
    self.fd = fd
    self.loop = loop
    self.onAccept = onAccept
  }

  /// Starts accepting. Loop thread.
  func start() {
    registration = loop.register(fd: fd, events: ga_epollin, handler: self)
  }

  func handleEvents(_ events: UInt32) {
    loop.assertInEventLoop()
    var peer = [CChar](repeating: 0, count: 64)
    for _ in 0..<256 where open {
      let client = ga_accept(fd, &peer, peer.count)
      if client < 0 {
        let error = ga_errno()
        if error == EMFILE || error == ENFILE {
          // Out of descriptors: stop accepting for a moment rather than spin.
          guard let registration else { return }
          loop.modify(registration, events: 0)
          loop.after(.milliseconds(100)) { [weak self] in
            guard let self, self.open else { return }
            self.loop.modify(registration, events: ga_epollin)
          }
        }
        return
      }
      onAccept(client, String(nulTerminated: peer))
    }
  }

  /// Stops accepting and closes the socket. Loop thread.
  func stop() {
    loop.assertInEventLoop()
    guard open else { return }
    open = false
    if let registration { loop.deregister(registration) }
    close(fd)
  }
}
