@testable import GuestAccessTransport
import Synchronization
import Testing

@Suite("Event loop busy polling")
struct BusyPollTests {
  @Test("a polling loop runs work, polls only briefly after it, then sleeps")
  func pollsThenSleeps() async throws {
    let loop = EventLoop(name: "test-busypoll", busyPoll: .milliseconds(2))
    let ran = Locked(0)
    for _ in 0..<5 {
      await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        loop.execute {
          ran.withLock { $0 += 1 }
          done.resume()
        }
      }
      try await Task.sleep(for: .milliseconds(30))
    }
    let counts = loop.pollCounts
    #expect(ran.value == 5)
    // Each idle spell starts with at most a 2 ms poll window, then the loop sleeps.
    #expect(counts.polls > 0, "the loop polled before sleeping")
    #expect(counts.sleeps >= 5, "the loop slept between the jobs: \(counts)")
    let pollsWhileIdle = counts.polls
    try await Task.sleep(for: .milliseconds(100))
    #expect(loop.pollCounts.polls == pollsWhileIdle, "an idle loop does not poll")
    await loop.shutdown()
  }

  @Test("a loop without a window never polls")
  func noWindowNoPolls() async throws {
    let loop = EventLoop(name: "test-nopoll")
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in loop.execute { done.resume() } }
    try await Task.sleep(for: .milliseconds(20))
    #expect(loop.pollCounts.polls == 0)
    #expect(loop.pollCounts.sleeps >= 1)
    await loop.shutdown()
  }
}
