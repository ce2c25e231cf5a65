import Synchronization

/// A fixed set of event loops; connections are spread over them round robin.
public final class EventLoopGroup: Sendable {
  /// The loops.
  public let loops: [EventLoop]
  private let nextIndex = Atomic<Int>(0)

  /// Creates `count` loops (default: one per CPU core) that busy-poll for
  /// `busyPoll` before sleeping (see `EventLoop.init(name:busyPoll:)`).
  public init(count: Int = EventLoopGroup.coreCount, name: String = "ga-loop", busyPoll: Duration = EventLoopGroup.defaultBusyPoll) {
    loops = (0..<max(1, count)).map { EventLoop(name: "\(name)-\($0)", busyPoll: busyPoll) }
  }

  /// The default busy-poll window: 50 µs, about two cross-CPU wake-ups on
  /// the 2-core machines this was measured on (BENCHMARKS.md, RPC runtime).
  public static let defaultBusyPoll: Duration = .microseconds(50)

  /// The next loop, round robin.
  public func next() -> EventLoop {
    loops[nextIndex.add(1, ordering: .relaxed).oldValue % loops.count]
  }

  /// Stops every loop.
  public func shutdown() async {
    for loop in loops { await loop.shutdown() }
  }

  /// The number of CPU cores available to the process.
  public static var coreCount: Int {
    Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  }

  /// A process-wide group with one loop per core, created on first use.
  public static let shared = EventLoopGroup(name: "ga-shared")
}

#if canImport(Glibc)
import Glibc
#endif
