import CGuestAccessPosix

#if canImport(Glibc)
import Glibc
#endif

/// Starts detached, named pthreads, for work that blocks (SQLite, SMTP,
/// `getaddrinfo`) and so must never run on a thread of the Swift
/// concurrency pool. Like `LockedValue`, plain pthreads: ThreadSanitizer
/// sees them.
public enum DetachedThread {
  private final class Body {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
  }

  /// Starts a thread named `name` (Linux shows its first 15 bytes in top,
  /// perf and gdb) running `body`; false if no thread could be created.
  @discardableResult
  public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
    let threadName = String(decoding: name.utf8.prefix(15), as: UTF8.self)
    let box = Unmanaged.passRetained(Body {
      ga_set_thread_name(threadName)
      body()
    })
    var handle = pthread_t()
    let rc = pthread_create(&handle, nil, { argument in
      Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue().run()
      return nil
    }, box.toOpaque())
    guard rc == 0 else {
      box.release()
      return false
    }
    pthread_detach(handle)
    return true
  }
}
