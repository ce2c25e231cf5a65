import CGuestAccessPosix
import GuestAccessLocks
@testable import GuestAccessTransport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// epoll's data carries a registration id, not the descriptor: an event of a
/// socket closed earlier in the same batch cannot reach a new socket that
/// reuses its number.
@Suite("Event loop registrations")
struct EventLoopRegistrationTests {
  final class Recorder: EventLoopHandler {
    let name: String
    let log: LockedValue<[String]>
    var onEvent: (() -> Void)?

    init(_ name: String, log: LockedValue<[String]>) {
      self.name = name
      self.log = log
    }

    func handleEvents(_ events: UInt32) {
      log.withLock { $0.append(name) }
      onEvent?()
    }
  }

  static func socketPair() -> (Int32, Int32) {
    var fds: [Int32] = [0, 0]
    precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
    return (fds[0], fds[1])
  }

  @Test("an event of a socket closed earlier in the batch is dropped, not given to the socket that took its number")
  func staleEventDropped() async {
    let loop = EventLoop(name: "ga-test-reg")
    let log = LockedValue<[String]>([])
    // Two sockets, both readable before the loop polls: one epoll_wait reports both.
    let (a, aPeer) = Self.socketPair()
    let (b, bPeer) = Self.socketPair()
    var byte: UInt8 = 1
    _ = write(aPeer, &byte, 1)
    _ = write(bPeer, &byte, 1)
    let (idle, idlePeer) = Self.socketPair()  // never readable
    let unsafeLog = log
    let (registered, reusedFD) = await withCheckedContinuation { (done: CheckedContinuation<(Int, Int32), Never>) in
      loop.executeUnchecked {
        let first = Recorder("a", log: unsafeLog)
        let second = Recorder("b", log: unsafeLog)
        let reused = Recorder("reused", log: unsafeLog)
        var registrations: [String: EventLoopRegistration] = [:]
        registrations["a"] = loop.register(fd: a, events: ga_epollin, handler: first)
        registrations["b"] = loop.register(fd: b, events: ga_epollin, handler: second)
        var swapped = false
        // Whichever handler runs first closes both sockets, and a new socket
        // (never readable) takes the other's descriptor number and registers.
        // The other's event is still in this batch.
        let swap: (String, Int32) -> Void = { other, otherFD in
          guard !swapped else { return }
          swapped = true
          for (name, registration) in registrations {
            loop.deregister(registration)
            if name != other { close(registration.fd) }
          }
          // dup2 closes the other's socket and puts the idle one on its number at once.
          precondition(dup2(idle, otherFD) == otherFD)
          _ = loop.register(fd: otherFD, events: ga_epollin, handler: reused)
          // Runs after the whole batch was dispatched.
          loop.executeUnchecked { done.resume(returning: (loop.registrationCount, otherFD)) }
        }
        first.onEvent = { swap("b", b) }
        second.onEvent = { swap("a", a) }
      }
    }
    let events = log.withLock { $0 }
    #expect(events.count == 1, "\(events)")
    #expect(!events.contains("reused"), "the closed socket's event reached the socket that reused its number: \(events)")
    #expect(registered == 1)
    for fd in [reusedFD, aPeer, bPeer, idle, idlePeer] { close(fd) }
    await loop.shutdown()
  }
}
