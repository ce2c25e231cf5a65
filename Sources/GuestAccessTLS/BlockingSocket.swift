import CGuestAccessPosix
import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// A failure of a `BlockingSocket`, with a message for people.
public struct BlockingSocketError: Error, Sendable, CustomStringConvertible {
  /// What went wrong (never a secret).
  public var description: String

  /// Creates an error.
  public init(_ description: String) {
    self.description = description
  }
}

/// One blocking TCP connection, optionally upgraded to TLS (verifying the
/// server by name): whole writes, reads with a deadline. The SMTP client and
/// the identity providers' HTTPS client use it from dedicated threads; never
/// on the Swift concurrency pool.
public final class BlockingSocket {
  private var fd: Int32
  private var tls: OpaquePointer?
  /// Seconds a read or write may go without progress.
  public let timeout: Double

  /// Whether the connection is encrypted.
  public var isEncrypted: Bool { tls != nil }

  private init(fd: Int32, timeout: Double) {
    self.fd = fd
    self.timeout = timeout
  }

  deinit {
    close()
  }

  /// Connects to `host:port` within `connectTimeout` seconds; reads and
  /// writes then give up after `timeout` seconds without progress.
  public static func connect(host: String, port: Int, connectTimeout: Double, timeout: Double) throws(BlockingSocketError) -> BlockingSocket {
    ga_ignore_sigpipe()  // OpenSSL writes with write(2), which raises SIGPIPE on a closed peer.
    var address = host
    if ga_is_numeric_host(host) == 0 {
      var resolved = [CChar](repeating: 0, count: 64)
      guard ga_resolve(host, &resolved, resolved.count) == 0 else { throw BlockingSocketError("cannot resolve \(host)") }
      address = String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    var inProgress: Int32 = 0
    let fd = ga_connect(address, Int32(port), &inProgress)
    guard fd >= 0 else { throw BlockingSocketError("cannot connect to \(host):\(port): \(errorText(ga_errno()))") }
    let socket = BlockingSocket(fd: fd, timeout: timeout)
    if inProgress != 0 {
      var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      let ready = retryingEINTR { poll(&poller, 1, Int32(connectTimeout * 1000)) }
      guard ready > 0 else {
        throw BlockingSocketError("cannot connect to \(host):\(port): " + (ready == 0 ? "timed out after \(connectTimeout) s" : errorText(errno)))
      }
      let error = ga_socket_error(fd)
      guard error == 0 else { throw BlockingSocketError("cannot connect to \(host):\(port): \(errorText(error))") }
    }
    // Back to blocking mode, with kernel timeouts as a backstop to the deadlines below.
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    return socket
  }

  /// Sends all of `bytes`.
  public func send(_ bytes: [UInt8]) throws(BlockingSocketError) {
    var offset = 0
    while offset < bytes.count {
      let chunk = min(bytes.count - offset, 64 * 1024)
      let n: Int = bytes.withUnsafeBytes { raw in
        let start = raw.baseAddress! + offset
        if let tls { return Int(SSL_write(tls, start, Int32(chunk))) }
        return ga_send(fd, start, chunk)
      }
      guard n > 0 else {
        if let tls { throw BlockingSocketError("TLS write failed: \(Self.tlsError(tls, Int32(n)))") }
        throw BlockingSocketError("send failed: \(Self.errorText(ga_errno()))")
      }
      offset += n
    }
  }

  /// Upgrades to TLS, verifying the server as `host`.
  public func startTLS(context: TLSContext, host: String) throws(BlockingSocketError) {
    guard let ssl = SSL_new(context.context) else { throw BlockingSocketError("TLS: \(TLSError.openSSLError())") }
    let numeric = ga_is_numeric_host(host) != 0
    if !numeric { _ = ga_ssl_set_sni(ssl, host) }
    guard ga_ssl_expect_host(ssl, host, numeric ? 1 : 0) == 1, SSL_set_fd(ssl, fd) == 1 else {
      SSL_free(ssl)
      throw BlockingSocketError("TLS: \(TLSError.openSSLError())")
    }
    let rc = SSL_connect(ssl)
    guard rc == 1 else {
      let verify = SSL_get_verify_result(ssl)
      let reason = verify != X509_V_OK
        ? "certificate verification failed: " + String(cString: X509_verify_cert_error_string(verify))
        : Self.tlsError(ssl, rc)
      SSL_free(ssl)
      throw BlockingSocketError("TLS handshake with \(host) failed: \(reason)")
    }
    tls = ssl
  }

  /// Closes the connection (after a TLS close_notify when encrypted).
  public func close() {
    if let tls {
      SSL_shutdown(tls)
      SSL_free(tls)
      self.tls = nil
    }
    if fd >= 0 {
      Glibc.close(fd)
      fd = -1
    }
  }

  /// Reads what is there (waiting until `deadline` for something) and
  /// appends it to `buffer`; returns false at the end of the stream.
  public func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws(BlockingSocketError) -> Bool {
    if tls == nil || SSL_pending(tls) == 0 {
      let remaining = deadline - ContinuousClock.now
      let millis = max(0, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
      var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = Self.retryingEINTR { poll(&poller, 1, Int32(min(millis, Int64(Int32.max)))) }
      guard ready > 0 else {
        throw BlockingSocketError(ready == 0 ? "no answer from the server within \(timeout) s" : "poll failed: \(Self.errorText(errno))")
      }
    }
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    let n: Int = chunk.withUnsafeMutableBytes { raw in
      if let tls { return Int(SSL_read(tls, raw.baseAddress, Int32(raw.count))) }
      return ga_recv(fd, raw.baseAddress, raw.count)
    }
    if n == 0 { return false }
    guard n > 0 else {
      if let tls {
        if SSL_get_error(tls, Int32(n)) == SSL_ERROR_ZERO_RETURN { return false }
        throw BlockingSocketError("TLS read failed: \(Self.tlsError(tls, Int32(n)))")
      }
      throw BlockingSocketError("receive failed: \(Self.errorText(ga_errno()))")
    }
    buffer += chunk[..<n]
    return true
  }

  private static func tlsError(_ ssl: OpaquePointer, _ rc: Int32) -> String {
    let code = SSL_get_error(ssl, rc)
    switch code {
    case SSL_ERROR_ZERO_RETURN: return "the server closed the TLS session"
    case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return "timed out"
    case SSL_ERROR_SYSCALL:
      let error = errno
      return error == EAGAIN || error == EWOULDBLOCK ? "timed out" : error == 0 ? "connection closed" : errorText(error)
    default: return TLSError.openSSLError()
    }
  }

  /// The text of an errno value.
  public static func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
  }

  private static func retryingEINTR(_ body: () -> Int32) -> Int32 {
    while true {
      let rc = body()
      if rc < 0 && errno == EINTR { continue }
      return rc
    }
  }
}
