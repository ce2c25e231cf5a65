import CGuestAccessPosix
import GuestAccessLocks
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Something registered with an event loop for readiness events of a file descriptor.
protocol EventLoopHandler: AnyObject {
  /// Called on the loop thread with the epoll event bits.
  func handleEvents(_ events: UInt32)
}

/// A file descriptor's registration with an event loop. epoll's data for the
/// descriptor carries `id`, never the descriptor: the loop maps the id to the
/// handler, so an event reported for a descriptor that was closed (and whose
/// number a new socket already reuses) finds no handler instead of reaching
/// the new socket's.
public struct EventLoopRegistration: Sendable, Hashable {
  /// The registered descriptor.
  public let fd: Int32
  /// The id epoll reports with its events; unique for the loop's life (0 is the loop's eventfd).
  let id: UInt64
}

/// One thread running an epoll readiness loop: it owns a set of sockets, runs
/// closures handed to it, and is a `TaskExecutor`, so tasks that prefer it
/// (the handlers of its connections' calls) run on the same thread that reads
/// and writes their sockets, with no hand-off between threads.
public final class EventLoop: TaskExecutor, @unchecked Sendable {
  private enum Work: @unchecked Sendable {
    case job(UnownedJob)
    case closure(() -> Void)
  }

  private struct Shared {
    var queue: [Work] = []
    var sleeping = false
    var stopping = false
    /// The thread has exited: jobs go to the global executor, closures are dropped.
    var stopped = false
  }

  /// A name for logs and thread names.
  public let name: String
  private let epollFD: Int32
  private let wakeFD: Int32
  private let shared = LockedValue(Shared())
  private var thread: pthread_t?
  private let threadID = Atomic<UInt>(0)
  // Loop-thread-only state.
  /// Handlers by registration id; the next id to hand out (0 is the eventfd's).
  private var handlers: [UInt64: EventLoopHandler] = [:]
  private var nextRegistrationID: UInt64 = 1
  private struct Ticker {
    var interval: UInt64
    var next: UInt64
    var repeats: Bool
    var body: () -> Bool
  }
  private var tickers: [Ticker] = []
  /// Channels with output written in this turn, sent at its end; and the
  /// list being sent (kept to reuse its storage).
  private var sends: [SocketChannel] = []
  private var sending: [SocketChannel] = []
  private var timers = TimerHeap()
  /// Scratch space for socket reads, shared by every connection of the loop:
  /// reads happen only on the loop thread and parsers copy out what they keep,
  /// so an idle connection holds no read buffer. Loop thread only.
  let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: EventLoop.readBufferSize, alignment: 16)
  /// Size of `readBuffer`.
  static let readBufferSize = 64 * 1024
  private let finished = LockedValue<[CheckedContinuation<Void, Never>]?>([])
  /// How long the loop polls for events before it sleeps (0: it sleeps at once).
  private let busyPollNanos: UInt64
  /// The adaptive polling window. Loop thread only.
  private var pollWindow: BusyPollWindow
  /// Polling rounds and sleeps so far (loop thread writes, tests read).
  private let pollStats = Atomic<UInt64>(0)
  private let sleeps = Atomic<UInt64>(0)

  /// Creates and starts a loop thread. With a `busyPoll` window the loop,
  /// once out of work, polls its sockets for that long (yielding the CPU
  /// each round) before it sleeps in `epoll_wait`: a request or reply that
  /// arrives within the window is read without waking a sleeping thread.
  public init(name: String, busyPoll: Duration = .zero) {
    self.name = name
    busyPollNanos = busyPoll.nanoseconds
    pollWindow = BusyPollWindow(maximum: busyPoll.nanoseconds)
    epollFD = ga_epoll_create()
    wakeFD = ga_eventfd()
    precondition(epollFD >= 0 && wakeFD >= 0, "cannot create epoll/eventfd")
    _ = ga_epoll_ctl(epollFD, ga_epoll_ctl_add(), wakeFD, ga_epollin, Self.wakeID)
    let box = Unmanaged.passRetained(self)
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    var handle = pthread_t()
    let rc = pthread_create(&handle, &attributes, { argument in
      let loop = Unmanaged<EventLoop>.fromOpaque(argument!).takeRetainedValue()
      loop.run()
      return nil
    }, box.toOpaque())
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_attr_destroy(&attributes)
    thread = handle
    pthread_detach(handle)
  }

  deinit {
    readBuffer.deallocate()
  }

  /// Whether the caller runs on this loop's thread.
  public var inEventLoop: Bool {
    threadID.load(ordering: .relaxed) == UInt(pthread_self())
  }

  /// Stops a debug build when the caller is not on this loop's thread: the
  /// check at every entry that touches loop-owned state. Compiled out of
  /// release builds (`assert`), so it costs the hot path nothing there.
  @inline(__always)
  public func assertInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
    assert(inEventLoop, "not on the thread of event loop \(name)", file: file, line: line)
  }

  // MARK: TaskExecutor

  public func enqueue(_ job: consuming ExecutorJob) {
    push(.job(UnownedJob(job)))
  }

  /// Runs `body` on the loop thread.
  public func execute(_ body: @escaping @Sendable () -> Void) {
    push(.closure(body))
  }

  /// Runs `body` on the loop thread (for non-Sendable loop-owned state).
  func executeUnchecked(_ body: @escaping () -> Void) {
    push(.closure(body))
  }

  /// Runs `body` on the loop thread the next time the loop wakes for any
  /// other reason; it does not wake the loop (for housekeeping that may wait).
  func executeLazily(_ body: @escaping () -> Void) {
    push(.closure(body), wake: false)
  }

  private func push(_ work: Work, wake wakeIfSleeping: Bool = true) {
    let accepted = shared.withLock { state -> Bool in
      if state.stopped { return false }
      state.queue.append(work)
      if wakeIfSleeping && state.sleeping {
        state.sleeping = false
        // Under the lock: once `stopped` is set the loop closes the eventfd, and a
        // write after that could land on whatever descriptor reused its number.
        _ = ga_eventfd_signal(wakeFD)
      }
      return true
    }
    if !accepted, case .job(let job) = work {
      // The loop is gone: tasks that preferred it still run, elsewhere.
      globalConcurrentExecutor.enqueue(job)
    }
  }

  /// Stops the loop after the work queued so far; registered sockets are not closed.
  public func shutdown() async {
    await withCheckedContinuation { continuation in
      let alreadyDone = finished.withLock { waiters -> Bool in
        guard waiters != nil else { return true }
        waiters!.append(continuation)
        return false
      }
      if alreadyDone {
        continuation.resume()
        return
      }
      shared.withLock { state in
        state.stopping = true
        if !state.stopped { _ = ga_eventfd_signal(wakeFD) }  // under the lock, as in push
      }
    }
  }

  // MARK: Loop-thread API

  /// The registration id of the loop's own eventfd.
  private static let wakeID: UInt64 = 0

  /// Registers `handler` for `fd` with the given interest under a new
  /// registration id; nil when epoll refuses the descriptor. Loop thread only.
  func register(fd: Int32, events: UInt32, handler: EventLoopHandler) -> EventLoopRegistration? {
    assertInEventLoop()
    let registration = EventLoopRegistration(fd: fd, id: nextRegistrationID)
    nextRegistrationID += 1
    guard ga_epoll_ctl(epollFD, ga_epoll_ctl_add(), fd, events, registration.id) == 0 else { return nil }
    handlers[registration.id] = handler
    return registration
  }

  /// Changes the interest of a registration. Any thread.
  func modify(_ registration: EventLoopRegistration, events: UInt32) {
    _ = ga_epoll_ctl(epollFD, ga_epoll_ctl_mod(), registration.fd, events, registration.id)
  }

  /// Removes a registration (before its descriptor is closed). Loop thread only.
  func deregister(_ registration: EventLoopRegistration) {
    assertInEventLoop()
    _ = ga_epoll_ctl(epollFD, ga_epoll_ctl_del(), registration.fd, 0, 0)
    handlers[registration.id] = nil
  }

  /// Registrations with a handler now (for tests). Loop thread only.
  var registrationCount: Int { handlers.count }

  /// Sends `channel`'s output at the end of this turn, with the output of
  /// every other channel written in it. Loop thread only.
  func sendLater(_ channel: SocketChannel) {
    assertInEventLoop()
    sends.append(channel)
  }

  /// Sends the output written in this turn. Loop thread only.
  private func sendWritten() {
    while !sends.isEmpty {
      swap(&sends, &sending)
      for channel in sending { channel.sendDeferred() }
      sending.removeAll(keepingCapacity: true)
    }
  }

  /// Runs `body` every `interval` on the loop thread while it returns true. Loop thread only.
  func every(_ interval: Duration, _ body: @escaping () -> Bool) {
    assertInEventLoop()
    let nanos = interval.nanoseconds
    tickers.append(Ticker(interval: nanos, next: Self.now() + nanos, repeats: true, body: body))
  }

  /// Runs `action` on the loop thread at `deadline` unless the returned timer
  /// is cancelled first. Any thread.
  func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping () -> Void) -> LoopTimer {
    let remaining = ContinuousClock.now.duration(to: deadline)
    return schedule(atNanos: Self.now() + remaining.nanoseconds, action)
  }

  /// Runs `action` on the loop thread at `due` on the loops' clock (`now()`)
  /// unless the returned timer is cancelled first. Any thread.
  func schedule(atNanos due: UInt64, _ action: @escaping () -> Void) -> LoopTimer {
    let timer = LoopTimer(loop: self, due: due, action: action)
    if inEventLoop {
      timers.insert(timer)
    } else {
      executeUnchecked { [self] in
        if timer.action != nil { timers.insert(timer) }
      }
    }
    return timer
  }

  /// Takes a timer out of the heap. Loop thread only.
  func removeTimer(_ timer: LoopTimer) {
    assertInEventLoop()
    timers.remove(timer)
  }

  /// Runs `body` once after `delay` on the loop thread. Loop thread only.
  func after(_ delay: Duration, _ body: @escaping () -> Void) {
    assertInEventLoop()
    tickers.append(Ticker(interval: 0, next: Self.now() + delay.nanoseconds, repeats: false, body: { body(); return false }))
  }

  /// Non-blocking polls and blocking waits so far.
  var pollCounts: (polls: UInt64, sleeps: UInt64) {
    (pollStats.load(ordering: .relaxed), sleeps.load(ordering: .relaxed))
  }

  /// The loops' clock: monotonic nanoseconds (timers, pipelines' call times).
  public static func now() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
  }

  private func run() {
    threadID.store(UInt(pthread_self()), ordering: .relaxed)
    setThreadName()
    var ids = [UInt64](repeating: 0, count: 256)
    var events = [UInt32](repeating: 0, count: 256)
    let executor = self.asUnownedTaskExecutor()
    var batch: [Work] = []
    batch.reserveCapacity(64)
    while true {
      // Run queued jobs and closures; new ones queued meanwhile run next round.
      var rounds = 0
      while rounds < 16 {
        let stop = shared.withLock { state -> Bool in
          swap(&batch, &state.queue)
          if state.stopping && batch.isEmpty { state.stopped = true }
          return state.stopped
        }
        if stop {
          sendWritten()
          finish()
          return
        }
        if batch.isEmpty { break }
        for work in batch {
          switch work {
          case .job(let job): job.runSynchronously(on: executor)
          case .closure(let body): body()
          }
        }
        batch.removeAll(keepingCapacity: true)
        // One send per connection for all the responses this round produced.
        sendWritten()
        rounds += 1
      }
      let timeout = shared.withLock { state -> Int32 in
        if !state.queue.isEmpty || state.stopping { return 0 }
        state.sleeping = true
        return nextTimeoutMillis()
      }
      var count: Int32 = 0
      var waitTimeout = timeout
      // Busy-poll briefly before sleeping: a reply that arrives within the
      // window needs no wake-up of this thread (a wake-up on another CPU costs
      // tens of µs on these machines). Yielding each round lets a peer
      // sharing this CPU run. Once per idle transition, so an idle loop sleeps.
      // The window ends early at the next timer, which must not run late, and
      // adapts to what it finds (`BusyPollWindow`).
      if timeout != 0 && busyPollNanos > 0 {
        let start = Self.now()
        let deadline = min(start + pollWindow.current, max(start, nextDue() ?? .max))
        repeat {
          count = ids.withUnsafeMutableBufferPointer { idBuffer in
            events.withUnsafeMutableBufferPointer { eventBuffer in
              ga_epoll_wait(epollFD, idBuffer.baseAddress, eventBuffer.baseAddress, 256, 0)
            }
          }
          pollStats.add(1, ordering: .relaxed)
          if count != 0 { break }
          sched_yield()
        } while Self.now() < deadline
        if count == 0 {
          pollWindow.missed()
          // The window used up part of the wait (work pushed meanwhile signals the eventfd).
          waitTimeout = nextTimeoutMillis()
        } else {
          pollWindow.caught()
        }
      }
      if count == 0 {
        sleeps.add(1, ordering: .relaxed)
        count = ids.withUnsafeMutableBufferPointer { idBuffer in
          events.withUnsafeMutableBufferPointer { eventBuffer in
            ga_epoll_wait(epollFD, idBuffer.baseAddress, eventBuffer.baseAddress, 256, waitTimeout)
          }
        }
      }
      shared.withLock { $0.sleeping = false }
      if count > 0 {
        for index in 0..<Int(count) {
          let id = ids[index]
          if id == Self.wakeID {
            ga_eventfd_drain(wakeFD)
          } else if let handler = handlers[id] {
            // An id whose registration ended (its socket closed earlier in
            // this batch) has no handler: its event is dropped.
            handler.handleEvents(events[index])
          }
        }
      }
      runTickers()
      sendWritten()
    }
  }

  /// When the next ticker or timer is due (monotonic ns), if any.
  private func nextDue() -> UInt64? {
    [tickers.lazy.map(\.next).min(), timers.nextDue].compactMap({ $0 }).min()
  }

  private func nextTimeoutMillis() -> Int32 {
    guard let next = nextDue() else { return -1 }
    let now = Self.now()
    if next <= now { return 0 }
    return Int32(min(UInt64(Int32.max), (next - now) / 1_000_000 + 1))
  }

  private func runTickers() {
    let now = Self.now()
    if let next = timers.nextDue, next <= now {
      for action in timers.popDue(now: now) { action() }
    }
    guard tickers.contains(where: { $0.next <= now }) else { return }
    var due: [Ticker] = []
    tickers.removeAll { ticker in
      guard ticker.next <= now else { return false }
      due.append(ticker)
      return true
    }
    for var ticker in due where ticker.body() && ticker.repeats {
      ticker.next = now + ticker.interval
      tickers.append(ticker)
    }
  }

  /// Called by the loop thread after it set `stopped` under the lock: from then
  /// on nobody writes to the eventfd, so it can be closed.
  private func finish() {
    let waiters = finished.withLock { waiters -> [CheckedContinuation<Void, Never>] in
      let list = waiters ?? []
      waiters = nil
      return list
    }
    close(epollFD)
    close(wakeFD)
    for waiter in waiters { waiter.resume() }
  }

  private func setThreadName() {
    ga_set_thread_name(String(name.prefix(15)))
  }
}
