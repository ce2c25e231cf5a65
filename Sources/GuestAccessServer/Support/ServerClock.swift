#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time in Unix milliseconds; injectable so tests can move time.
public protocol ServerClock: Sendable {
  /// Now, in Unix epoch milliseconds.
  func nowMillis() -> Int64
}

/// The system's real-time clock.
public struct SystemServerClock: ServerClock {
  /// Creates the clock.
  public init() {}

  public func nowMillis() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
  }
}
