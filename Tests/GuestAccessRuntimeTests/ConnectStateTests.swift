import Dispatch
import GuestAccessCore
import GuestAccessTestSupport
@testable import GuestAccessTransport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Connect waiter")
struct ConnectStateTests {
  static let cancelled = RPCError(code: .cancelled, message: "connect cancelled")

  @Test("the outcome before the waiter: the waiter is resumed at once with it")
  func outcomeFirst() {
    var state = ConnectState<Int>()
    guard case .recorded = state.resolve(Self.cancelled) else { Issue.record("not recorded"); return }
    guard case .failure(let error)? = state.wait(1) else { Issue.record("not resumed with the failure"); return }
    #expect(error.code == .cancelled)
    guard case .alreadyEnded = state.resolve(nil) else { Issue.record("second outcome counted"); return }
  }

  @Test("the waiter before the outcome: the outcome resumes it, once")
  func waiterFirst() {
    var state = ConnectState<Int>()
    #expect(state.wait(7) == nil)
    guard case .resume(let waiter) = state.resolve(nil) else { Issue.record("waiter not resumed"); return }
    #expect(waiter == 7)
    guard case .alreadyEnded = state.resolve(Self.cancelled) else { Issue.record("second outcome counted"); return }
  }

  @Test("connected before the waiter: it resumes with success")
  func connectedFirst() {
    var state = ConnectState<Int>()
    _ = state.resolve(nil)
    guard case .success = state.wait(1) else { Issue.record("not success"); return }
  }

  @Test("a cancel or timeout racing the waiter's arrival never leaves connect suspended")
  func outcomeRacingTheWaiter() async throws {
    let loop = EventLoop(name: "test-connect")
    var stuck = 0
    for round in 0..<1000 {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      let connection = ClientConnection(fd: fd, loop: loop, target: "test") { _ in }
      let waiter = ConnectWaiter(connection: connection)
      let go = Atomic<Int>(0)
      let done = Atomic<Int>(0)
      let resumed = Atomic<Bool>(false)
      // Both sides meet at a short, bounded spin, so that the timeout (or
      // cancel) lands from another thread just as the waiter arrives.
      @Sendable func meet() {
        go.add(1, ordering: .acquiringAndReleasing)
        var spins = 0
        while go.load(ordering: .acquiring) < 2 && spins < 200_000 { spins += 1 }
        for _ in 0..<(round % 7) { _ = go.load(ordering: .relaxed) }
      }
      DispatchQueue.global().async {
        meet()
        waiter.fail(RPCError(code: .cancelled, message: "connect cancelled"))
        done.add(1, ordering: .releasing)
      }
      let waiting = Task {
        _ = try? await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
          meet()
          waiter.set(continuation)
          done.add(1, ordering: .releasing)
        }
        resumed.store(true, ordering: .releasing)
      }
      // Once both `set` and `fail` have returned, the waiter must have been resumed
      // (both resume synchronously): then the task ends.
      let deadline = ContinuousClock.now + .seconds(10).scaled
      while done.load(ordering: .acquiring) < 2 && ContinuousClock.now < deadline { await Task.yield() }
      let settled = ContinuousClock.now + .seconds(2).scaled
      while !resumed.load(ordering: .acquiring) && ContinuousClock.now < settled {
        try await Task.sleep(for: .milliseconds(1))
      }
      if !resumed.load(ordering: .acquiring) {
        stuck += 1
        break
      }
      _ = await waiting.value
    }
    #expect(stuck == 0, "connect stayed suspended after its outcome")
    await loop.shutdown()
  }
}
