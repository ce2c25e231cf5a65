import CGuestAccessPosix
import GuestAccessCore
import GuestAccessLocks

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
      let lookUp: @Sendable () -> Void = {
        var buffer = [CChar](repeating: 0, count: 64)
        let ok = ga_resolve(host, &buffer, buffer.count) == 0
        continuation.resume(returning: ok ? String(nulTerminated: buffer) : nil)
      }
      // Without a thread to spare, look up here rather than fail the connection.
      if !DetachedThread.start(name: "ga-resolve", lookUp) { lookUp() }
    }
    guard let resolved else {
      throw RPCError(.unresolvableHost(host))
    }
    return resolved
  }
}

extension String {
  /// Decodes a NUL-terminated C string held in an array.
  init(nulTerminated chars: [CChar]) {
    self.init(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
