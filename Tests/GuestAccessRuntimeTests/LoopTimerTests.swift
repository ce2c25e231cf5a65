import GuestAccessTestSupport
@testable import GuestAccessTransport
import Synchronization
import Testing

@Suite("Loop timers")
struct LoopTimerTests {
  @Test("timers fire in deadline order; cancelled ones never fire")
  func orderAndCancel() async throws {
    let loop = EventLoop(name: "test-timers")
    let fired = Locked<[Int]>([])
    let start = ContinuousClock.now
    var timers: [LoopTimer] = []
    let delays = (0..<200).map { _ in Int.random(in: 200...350) }
    for (index, delay) in delays.enumerated() {
      timers.append(loop.schedule(at: start + .milliseconds(delay)) { fired.withLock { $0.append(index) } })
    }
    // Cancel every third, some from the loop thread, some from here.
    for index in stride(from: 0, to: 200, by: 3) {
      if index % 2 == 0 { timers[index].cancel() } else { loop.execute { [timer = timers[index]] in timer.cancel() } }
    }
    try await Task.sleep(for: .milliseconds(800).scaled)
    let order = fired.value
    let expected = (0..<200).filter { $0 % 3 != 0 }
    #expect(Set(order) == Set(expected))
    #expect(order.count == expected.count)
    let firedDelays = order.map { delays[$0] }
    #expect(firedDelays == firedDelays.sorted(), "fired in deadline order")
    await loop.shutdown()
  }

  @Test("a timer cancelled before the loop inserted it does not fire")
  func cancelBeforeInsert() async throws {
    let loop = EventLoop(name: "test-timers2")
    let fired = Locked(0)
    for _ in 0..<100 {
      let timer = loop.schedule(at: .now + .milliseconds(5)) { fired.withLock { $0 += 1 } }
      timer.cancel()
    }
    try await Task.sleep(for: .milliseconds(100))
    #expect(fired.value == 0)
    await loop.shutdown()
  }
}
