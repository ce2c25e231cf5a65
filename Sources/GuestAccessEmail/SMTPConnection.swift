import CGuestAccessPosix
import COpenSSL
import GuestAccessTLS

#if canImport(Glibc)
import Glibc
#endif

/// One blocking TCP connection to an SMTP server, optionally upgraded to TLS:
/// line-oriented reads with a deadline per reply, whole writes. Used from a
/// single dedicated thread; never on the Swift concurrency pool.
final class SMTPConnection {
  private var fd: Int32
  private var tls: OpaquePointer?
  private var buffer: [UInt8] = []
  private let timeout: Double

  /// Whether the connection is encrypted.
  var isEncrypted: Bool { tls != nil }

  /// Whether bytes arrived beyond the last reply (before STARTTLS this is an injection attempt).
  var hasBufferedInput: Bool { !buffer.isEmpty }

  private init(fd: Int32, timeout: Double) {
    self.fd = fd
    self.timeout = timeout
  }

  deinit {
    close()
  }

  /// Connects to `host:port` within `connectTimeout` seconds; reads and
  /// writes then give up after `timeout` seconds without progress.
  static func open(host: String, port: Int, connectTimeout: Double, timeout: Double) throws(EmailDeliveryError) -> SMTPConnection {
    ga_ignore_sigpipe()  // OpenSSL writes with write(2), which raises SIGPIPE on a closed peer.
    var address = host
    if ga_is_numeric_host(host) == 0 {
      var resolved = [CChar](repeating: 0, count: 64)
      guard ga_resolve(host, &resolved, resolved.count) == 0 else { throw .transient("cannot resolve \(host)") }
      address = String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    var inProgress: Int32 = 0
    let fd = ga_connect(address, Int32(port), &inProgress)
    guard fd >= 0 else { throw .transient("cannot connect to \(host):\(port): \(Self.errorText(ga_errno()))") }
    let connection = SMTPConnection(fd: fd, timeout: timeout)
    if inProgress != 0 {
      var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      let ready = Self.retryingEINTR { poll(&poller, 1, Int32(connectTimeout * 1000)) }
      guard ready > 0 else {
        throw .transient("cannot connect to \(host):\(port): " + (ready == 0 ? "timed out after \(connectTimeout) s" : Self.errorText(errno)))
      }
      let error = ga_socket_error(fd)
      guard error == 0 else { throw .transient("cannot connect to \(host):\(port): \(Self.errorText(error))") }
    }
    // Back to blocking mode, with kernel timeouts as a backstop to the deadlines below.
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    return connection
  }

  /// Sends a command line (CRLF appended).
  func send(line: String) throws(EmailDeliveryError) {
    try send(Array((line + "\r\n").utf8))
  }

  /// Sends all of `bytes`.
  func send(_ bytes: [UInt8]) throws(EmailDeliveryError) {
    var offset = 0
    while offset < bytes.count {
      let chunk = min(bytes.count - offset, 64 * 1024)
      let n: Int = bytes.withUnsafeBytes { raw in
        let start = raw.baseAddress! + offset
        if let tls { return Int(SSL_write(tls, start, Int32(chunk))) }
        return ga_send(fd, start, chunk)
      }
      guard n > 0 else {
        if let tls { throw .transient("TLS write failed: \(Self.tlsError(tls, Int32(n)))") }
        throw .transient("send failed: \(Self.errorText(ga_errno()))")
      }
      offset += n
    }
  }

  /// Reads one whole reply, waiting at most the timeout for it.
  func readReply() throws(EmailDeliveryError) -> SMTPReply {
    let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
    var lines: [String] = []
    var code = 0
    while true {
      let line = try readLine(deadline: deadline)
      guard let parsed = SMTPReply.parseLine(line), code == 0 || parsed.code == code else {
        throw .transient("malformed reply from the server: \(SMTPReply.truncated(line))")
      }
      code = parsed.code
      lines.append(parsed.text)
      if !parsed.more { return SMTPReply(code: code, lines: lines) }
      guard lines.count < 1000 else { throw .transient("reply of more than 1000 lines") }
    }
  }

  /// Upgrades to TLS (after a 220 reply to STARTTLS), verifying the server as `host`.
  func startTLS(context: TLSContext, host: String) throws(EmailDeliveryError) {
    guard let ssl = SSL_new(context.context) else { throw .transient("TLS: \(TLSError.openSSLError())") }
    let numeric = ga_is_numeric_host(host) != 0
    if !numeric { _ = ga_ssl_set_sni(ssl, host) }
    guard ga_ssl_expect_host(ssl, host, numeric ? 1 : 0) == 1, SSL_set_fd(ssl, fd) == 1 else {
      SSL_free(ssl)
      throw .transient("TLS: \(TLSError.openSSLError())")
    }
    let rc = SSL_connect(ssl)
    guard rc == 1 else {
      let verify = SSL_get_verify_result(ssl)
      let reason = verify != X509_V_OK
        ? "certificate verification failed: " + String(cString: X509_verify_cert_error_string(verify))
        : Self.tlsError(ssl, rc)
      SSL_free(ssl)
      throw .transient("TLS handshake with \(host) failed: \(reason)")
    }
    tls = ssl
  }

  /// Closes the connection (after a TLS close_notify when encrypted).
  func close() {
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

  private func readLine(deadline: ContinuousClock.Instant) throws(EmailDeliveryError) -> String {
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        var end = newline
        if end > 0 && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = String(decoding: buffer[..<end], as: UTF8.self)
        buffer.removeSubrange(...newline)
        return line
      }
      guard buffer.count < 64 * 1024 else { throw .transient("reply line longer than 64 KiB") }
      try fill(deadline: deadline)
    }
  }

  private func fill(deadline: ContinuousClock.Instant) throws(EmailDeliveryError) {
    if tls == nil || SSL_pending(tls) == 0 {
      let remaining = deadline - ContinuousClock.now
      let millis = max(0, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
      var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = Self.retryingEINTR { poll(&poller, 1, Int32(min(millis, Int64(Int32.max)))) }
      guard ready > 0 else {
        throw .transient(ready == 0 ? "no reply from the server within \(timeout) s" : "poll failed: \(Self.errorText(errno))")
      }
    }
    var chunk = [UInt8](repeating: 0, count: 4096)
    let n: Int = chunk.withUnsafeMutableBytes { raw in
      if let tls { return Int(SSL_read(tls, raw.baseAddress, Int32(raw.count))) }
      return ga_recv(fd, raw.baseAddress, raw.count)
    }
    guard n > 0 else {
      if let tls { throw .transient(n == 0 ? "the server closed the connection" : "TLS read failed: \(Self.tlsError(tls, Int32(n)))") }
      throw .transient(n == 0 ? "the server closed the connection" : "receive failed: \(Self.errorText(ga_errno()))")
    }
    buffer += chunk[..<n]
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

  static func errorText(_ code: Int32) -> String {
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
