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

@Suite("Busy-poll window")
struct BusyPollWindowTests {
  @Test("an empty window halves the next one down to a sixteenth; events restore the full window")
  func adapts() {
    var window = BusyPollWindow(maximum: 64_000)
    #expect(window.current == 64_000)
    window.missed()
    #expect(window.current == 32_000)
    for _ in 0..<10 { window.missed() }
    #expect(window.current == 4_000)
    window.caught()
    #expect(window.current == 64_000)
  }

  @Test("a zero window stays zero")
  func zero() {
    var window = BusyPollWindow(maximum: 0)
    window.missed()
    window.caught()
    #expect(window.current == 0)
  }
}
