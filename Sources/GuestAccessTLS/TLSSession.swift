import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// One TLS connection over a non-blocking socket (`SSL` on a file
/// descriptor), driven by an event loop: every operation returns at once,
/// saying which readiness it waits for. Not thread-safe: the owner serializes
/// every call (one `SSL` is never used by two threads at once).
public final class TLSSession {
  /// The outcome of a handshake step, a read or a write.
  public enum Outcome: Equatable, Sendable {
    /// Done; for reads and writes, this many bytes.
    case done(Int)
    /// Call again once the socket is readable.
    case wantRead
    /// Call again once the socket is writable.
    case wantWrite
    /// The peer closed the TLS session (close_notify) or the connection.
    case closed
    /// The session failed: why, in words.
    case failed(String)
  }

  private let ssl: OpaquePointer
  /// Whether this end accepts connections (else it connects).
  public let isServer: Bool
  /// Whether the handshake finished.
  public private(set) var isEstablished = false

  /// Starts a session on connected socket `fd`. A client expects the server
  /// to be `serverName` (sent as SNI unless numeric, and checked against the
  /// certificate when `context` verifies peers).
  public init(context: TLSContext, fd: Int32, server: Bool, serverName: String? = nil) throws(TLSError) {
    guard let ssl = SSL_new(context.context) else { throw TLSError("TLS: \(TLSError.openSSLError())") }
    self.ssl = ssl
    isServer = server
    guard SSL_set_fd(ssl, fd) == 1 else { throw TLSError("TLS: \(TLSError.openSSLError())") }
    if server {
      SSL_set_accept_state(ssl)
    } else {
      SSL_set_connect_state(ssl)
      if let serverName {
        let numeric = Self.isNumericAddress(serverName)
        if !numeric { _ = ga_ssl_set_sni(ssl, serverName) }
        if context.verifiesPeer, ga_ssl_expect_host(ssl, serverName, numeric ? 1 : 0) != 1 {
          throw TLSError("TLS: cannot check the server name \(serverName): \(TLSError.openSSLError())")
        }
      }
    }
  }

  deinit {
    SSL_free(ssl)
  }

  /// Advances the handshake.
  public func handshake() -> Outcome {
    guard !isEstablished else { return .done(0) }
    let rc = SSL_do_handshake(ssl)
    if rc == 1 {
      isEstablished = true
      return .done(0)
    }
    switch outcome(rc) {
    case .closed: return .failed(handshakeFailure("the peer closed the connection during the TLS handshake"))
    case .failed(let reason): return .failed(handshakeFailure(reason))
    case let other: return other
    }
  }

  /// Reads decrypted bytes into `buffer`.
  public func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
    var count = 0
    let rc = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count)
    return rc == 1 ? .done(count) : outcome(0)
  }

  /// Encrypts and sends up to `count` bytes from `bytes` (a record at a time;
  /// after `wantWrite`, call again with at least the same bytes).
  public func write(_ bytes: UnsafeRawPointer, count: Int) -> Outcome {
    var written = 0
    let rc = SSL_write_ex(ssl, bytes, count, &written)
    return rc == 1 ? .done(written) : outcome(0)
  }

  /// Whether decrypted or received bytes wait inside the session (a readiness
  /// loop does not see them on the socket).
  public var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

  /// Sends close_notify if possible (no waiting for the peer's).
  public func shutdown() {
    guard isEstablished else { return }
    _ = SSL_shutdown(ssl)
    ERR_clear_error()
  }

  /// Whether ALPN selected the RPC protocol's identifier.
  public var negotiatedRPCProtocol: Bool { ga_ssl_alpn_matches(ssl) == 1 }

  /// The protocol version negotiated, e.g. `TLSv1.3`.
  public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

  /// The certificate the peer presented (verified when the context verifies
  /// peers), if any: its subject (RFC 2253) and URI subject alternative names.
  public func peerIdentity() -> (subject: String, uris: [String])? {
    var subject = [CChar](repeating: 0, count: 1024)
    var uris = [CChar](repeating: 0, count: 4096)
    guard ga_ssl_peer_identity(ssl, &subject, subject.count, &uris, uris.count) != 0 else { return nil }
    let text = { (chars: [CChar]) in String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    let uriText = text(uris)
    return (text(subject), uriText.isEmpty ? [] : uriText.split(separator: "\n").map(String.init))
  }

  private func outcome(_ rc: Int32) -> Outcome {
    let code = SSL_get_error(ssl, rc)
    switch code {
    case SSL_ERROR_WANT_READ:
      return .wantRead
    case SSL_ERROR_WANT_WRITE:
      return .wantWrite
    case SSL_ERROR_ZERO_RETURN:
      return .closed
    case SSL_ERROR_SYSCALL:
      let error = errno
      ERR_clear_error()
      if error == EAGAIN || error == EWOULDBLOCK { return .wantRead }
      return error == 0 ? .closed : .failed(String(cString: strerror(error)))
    default:
      return .failed(TLSError.openSSLError())
    }
  }

  /// A handshake failure in words, with the certificate check's verdict when that failed.
  private func handshakeFailure(_ reason: String) -> String {
    let verify = SSL_get_verify_result(ssl)
    if verify != X509_V_OK && !isServer {
      return "TLS handshake failed: certificate verify failed: " + String(cString: X509_verify_cert_error_string(verify))
    }
    return "TLS handshake failed: \(reason)"
  }

  private static func isNumericAddress(_ host: String) -> Bool {
    var v4 = in_addr()
    var v6 = in6_addr()
    return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
  }
}
