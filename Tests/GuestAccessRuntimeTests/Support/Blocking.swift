#if canImport(Glibc)
import Glibc
#endif

/// Runs a blocking closure (a raw socket call in a test) on a thread of its
/// own, so tests never block the Swift concurrency pool the runtime's timers use.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    let box = Unmanaged.passRetained(BlockingBox { continuation.resume(with: Result { try body() }) })
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { argument in
      Unmanaged<BlockingBox>.fromOpaque(argument!).takeRetainedValue().run()
      return nil
    }, box.toOpaque())
    if rc == 0 {
      pthread_detach(thread)
    } else {
      box.takeRetainedValue().run()
    }
  }
}

private final class BlockingBox {
  let run: () -> Void
  init(_ run: @escaping () -> Void) { self.run = run }
}
