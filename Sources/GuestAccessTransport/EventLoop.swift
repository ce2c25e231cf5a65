import CGuestAccessPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Something registered with an event loop for readiness events of a file descriptor.
protocol EventLoopHandler: AnyObject {
  /// Called on the loop thread with the epoll event bits.
  func handleEvents(_ events: UInt32)
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
  }

  /// A name for logs and thread names.
  public let name: String
  private let epollFD: Int32
  private let wakeFD: Int32
  private let shared = Mutex(Shared())
  private var thread: pthread_t?
  private let threadID = Atomic<UInt>(0)
  // Loop-thread-only state.
  private var handlers: [Int32: EventLoopHandler] = [:]
  private var tickers: [(interval: UInt64, next: UInt64, repeats: Bool, body: () -> Void)] = []
  private let finished = Mutex<[CheckedContinuation<Void, Never>]?>([])

  /// Creates and starts a loop thread.
  public init(name: String) {
    self.name = name
    epollFD = ga_epoll_create()
    wakeFD = ga_eventfd()
    precondition(epollFD >= 0 && wakeFD >= 0, "cannot create epoll/eventfd")
    _ = ga_epoll_ctl(epollFD, ga_epoll_ctl_add(), wakeFD, ga_epollin)
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

  /// Whether the caller runs on this loop's thread.
  public var inEventLoop: Bool {
    threadID.load(ordering: .relaxed) == UInt(pthread_self())
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

  private func push(_ work: Work) {
    let wake = shared.withLock { state -> Bool in
      state.queue.append(work)
      if state.sleeping {
        state.sleeping = false
        return true
      }
      return false
    }
    if wake { _ = ga_eventfd_signal(wakeFD) }
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
      shared.withLock { $0.stopping = true }
      _ = ga_eventfd_signal(wakeFD)
    }
  }

  // MARK: Loop-thread API

  /// Registers `handler` for `fd` with the given interest. Loop thread only.
  func register(fd: Int32, events: UInt32, handler: EventLoopHandler) -> Bool {
    handlers[fd] = handler
    return ga_epoll_ctl(epollFD, ga_epoll_ctl_add(), fd, events) == 0
  }

  /// Changes the interest of a registered fd. Any thread.
  func modify(fd: Int32, events: UInt32) {
    _ = ga_epoll_ctl(epollFD, ga_epoll_ctl_mod(), fd, events)
  }

  /// Removes `fd` from the loop. Loop thread only.
  func deregister(fd: Int32) {
    _ = ga_epoll_ctl(epollFD, ga_epoll_ctl_del(), fd, 0)
    handlers[fd] = nil
  }

  /// Runs `body` every `interval` on the loop thread. Loop thread only.
  func every(_ interval: Duration, _ body: @escaping () -> Void) {
    let nanos = interval.nanoseconds
    tickers.append((interval: nanos, next: Self.now() + nanos, repeats: true, body: body))
  }

  /// Runs `body` once after `delay` on the loop thread. Loop thread only.
  func after(_ delay: Duration, _ body: @escaping () -> Void) {
    tickers.append((interval: delay.nanoseconds, next: Self.now() + delay.nanoseconds, repeats: false, body: body))
  }

  static func now() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
  }

  private func run() {
    threadID.store(UInt(pthread_self()), ordering: .relaxed)
    setThreadName()
    var fds = [Int32](repeating: 0, count: 256)
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
          return state.stopping && batch.isEmpty
        }
        if stop {
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
        rounds += 1
      }
      let timeout = shared.withLock { state -> Int32 in
        if !state.queue.isEmpty || state.stopping { return 0 }
        state.sleeping = true
        return nextTimeoutMillis()
      }
      let count = fds.withUnsafeMutableBufferPointer { fdBuffer in
        events.withUnsafeMutableBufferPointer { eventBuffer in
          ga_epoll_wait(epollFD, fdBuffer.baseAddress, eventBuffer.baseAddress, 256, timeout)
        }
      }
      shared.withLock { $0.sleeping = false }
      if count > 0 {
        for index in 0..<Int(count) {
          let fd = fds[index]
          if fd == wakeFD {
            ga_eventfd_drain(wakeFD)
          } else if let handler = handlers[fd] {
            handler.handleEvents(events[index])
          }
        }
      }
      runTickers()
    }
  }

  private func nextTimeoutMillis() -> Int32 {
    guard !tickers.isEmpty else { return -1 }
    let now = Self.now()
    let next = tickers.map(\.next).min()!
    if next <= now { return 0 }
    return Int32(min(UInt64(Int32.max), (next - now) / 1_000_000 + 1))
  }

  private func runTickers() {
    guard !tickers.isEmpty else { return }
    let now = Self.now()
    var due: [() -> Void] = []
    tickers.removeAll { ticker in
      guard ticker.next <= now else { return false }
      due.append(ticker.body)
      return !ticker.repeats
    }
    for index in tickers.indices where tickers[index].next <= now {
      tickers[index].next = now + tickers[index].interval
    }
    for body in due { body() }
  }

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
