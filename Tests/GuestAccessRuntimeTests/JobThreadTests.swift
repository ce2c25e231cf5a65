import Dispatch
import GuestAccessLocks
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The one job queue (`JobThread`) and `BlockingThread` on it.
@Suite("Job threads")
struct JobThreadTests {
  @Test("jobs queued while the thread is busy come as one batch, at most maxBatch, in order")
  func batches() {
    let gate = DispatchSemaphore(value: 0)
    let batches = LockedValue<[[Int]]>([])
    let thread = JobThread<Int>(name: "test-jobs", maxBatch: 3) { batch in
      if batch == [0] { gate.wait() }
      batches.withLock { $0.append(batch) }
    }
    thread.submit(0)
    // Job 0 holds the thread; the next five queue behind it.
    while thread.backlog > 0 { usleep(1000) }
    for job in 1...5 { thread.submit(job) }
    gate.signal()
    thread.stop()
    #expect(batches.withLock { $0 } == [[0], [1, 2, 3], [4, 5]])
  }

  @Test("stop finishes the queued jobs first; a job submitted after is refused")
  func stopDrains() {
    let ran = LockedValue(0)
    let thread = JobThread<Int>(name: "test-stop", maxBatch: 1) { batch in
      usleep(2000)
      ran.withLock { $0 += batch.count }
    }
    for job in 0..<10 { thread.submit(job) }
    thread.stop()
    #expect(ran.withLock { $0 } == 10)
    #expect(!thread.submit(11))
    #expect(ran.withLock { $0 } == 10)
  }

  @Test("BlockingThread returns results and errors, off the caller's thread; after stop it runs inline")
  func blockingThread() async throws {
    struct Refused: Error, Equatable {}
    let thread = BlockingThread(name: "test-blocking")
    let name = await thread.run { () -> String in
      // The running thread's name, as the kernel has it.
      guard let file = fopen("/proc/thread-self/comm", "r") else { return "" }
      defer { fclose(file) }
      var buffer = [CChar](repeating: 0, count: 32)
      _ = fgets(&buffer, Int32(buffer.count), file)
      return String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    #expect(name == "test-blocking")
    await #expect(throws: Refused.self) { try await thread.run { () throws(Refused) -> Int in throw Refused() } }
    thread.stop()
    #expect(await thread.run { 41 + 1 } == 42)
  }
}
