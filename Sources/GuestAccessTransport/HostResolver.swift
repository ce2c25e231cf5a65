import CGuestAccessPosix
import GuestAccessCore

#if canImport(Glibc)
import Glibc
#endif

/// Turns a host name into a numeric address without blocking the Swift
/// concurrency pool: numeric addresses are used as they are, names are looked
/// up with `getaddrinfo` (a blocking call) on a short-lived thread of its own.
enum HostResolver {
  /// The numeric address of `host` (the first IPv4 address, else IPv6).
  static func resolve(_ host: String) async throws -> String {
    if ga_is_numeric_host(host) != 0 { return host }
    let resolved: String? = await withCheckedContinuation { continuation in
      DetachedThread.start(name: "ga-resolve") {
        var buffer = [CChar](repeating: 0, count: 64)
        let ok = ga_resolve(host, &buffer, buffer.count) == 0
        continuation.resume(returning: ok ? String(nulTerminated: buffer) : nil)
      }
    }
    guard let resolved else {
      throw RPCError(code: .unavailable, message: "cannot resolve host \(host)",
                     errorInfo: ErrorInfo(reason: RPCChannel.notProcessedReason, domain: "guestaccess.v1"))
    }
    return resolved
  }
}

/// Runs a blocking closure on a new detached pthread.
enum DetachedThread {
  private final class Box {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
  }

  static func start(name: String, _ body: @escaping @Sendable () -> Void) {
    let box = Unmanaged.passRetained(Box {
      ga_set_thread_name(name)
      body()
    })
    var handle = pthread_t()
    let rc = pthread_create(&handle, nil, { argument in
      let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
      box.body()
      return nil
    }, box.toOpaque())
    guard rc == 0 else {
      box.release()
      body()
      return
    }
    pthread_detach(handle)
  }
}

extension String {
  /// Decodes a NUL-terminated C string held in an array.
  init(nulTerminated chars: [CChar]) {
    self.init(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
