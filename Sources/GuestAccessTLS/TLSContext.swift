import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// An OpenSSL context (`SSL_CTX`): TLS 1.3 preferred, TLS 1.2 the floor,
/// certificates and trust loaded once. Shared by the connections made from it
/// (OpenSSL allows that once it is configured; it is only configured here).
public final class TLSContext: @unchecked Sendable {
  /// The `SSL_CTX`.
  public let context: OpaquePointer
  /// Whether connections verify the peer's certificate (clients: always unless
  /// skipped explicitly; servers: when client certificates are required).
  public let verifiesPeer: Bool

  /// The protocol identifier the RPC port negotiates with ALPN.
  public static let alpnProtocol = "guestaccess/1"

  private init(method: OpaquePointer?, verifiesPeer: Bool) throws(TLSError) {
    // OpenSSL writes to sockets without MSG_NOSIGNAL: a peer that went away
    // must fail the write (EPIPE), not kill the process with SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    guard let context = SSL_CTX_new(method) else { throw TLSError("TLS: \(TLSError.openSSLError())") }
    self.context = context
    self.verifiesPeer = verifiesPeer
    guard ga_ssl_ctx_min_tls12(context) == 1 else { throw TLSError("TLS: cannot require TLS 1.2: \(TLSError.openSSLError())") }
  }

  deinit {
    SSL_CTX_free(context)
  }

  /// A client context that verifies servers against `caFile` (PEM), or the
  /// system's CA store when nil (the SMTP client's; no ALPN, no client certificate).
  public convenience init(caFile: String?) throws(TLSError) {
    try self.init(client: TLSConfiguration(caFile: caFile), alpn: false)
  }

  /// A client context for `options`; with `alpn` it offers the RPC protocol's identifier.
  public convenience init(client options: TLSConfiguration, alpn: Bool = true) throws(TLSError) {
    try self.init(method: TLS_client_method(), verifiesPeer: !options.insecureSkipVerify)
    ga_ssl_ctx_event_loop_mode(context)
    if alpn { guard ga_ssl_ctx_alpn_client(context) == 1 else { throw TLSError("TLS: cannot set ALPN: \(TLSError.openSSLError())") } }
    if options.insecureSkipVerify {
      SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
    } else {
      SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
      if let caFile = options.caFile {
        guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
          throw TLSError("TLS: cannot load CA certificates from \(caFile): \(TLSError.openSSLError())")
        }
      } else {
        guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw TLSError("TLS: no system CA store: \(TLSError.openSSLError())") }
      }
    }
    if let certificate = options.certificateFile {
      try loadCertificate(certificate, key: options.keyFile ?? certificate)
    }
  }

  /// A server context presenting the chain in `certificateFile` with the key
  /// in `keyFile` (PEM); with `clientCAFile`, clients must present a
  /// certificate issued by one of its CAs. `application` is what ALPN selects.
  public convenience init(server options: TLSServerOptions, application: TLSApplicationProtocol = .rpc) throws(TLSError) {
    try self.init(method: TLS_server_method(), verifiesPeer: options.clientCAFile != nil)
    ga_ssl_ctx_event_loop_mode(context)
    switch application {
    case .rpc: ga_ssl_ctx_alpn_server(context)
    case .http1: ga_ssl_ctx_alpn_server_http11(context)
    }
    try loadCertificate(options.certificateFile, key: options.keyFile)
    if let caFile = options.clientCAFile {
      guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1, let names = SSL_load_client_CA_file(caFile) else {
        throw TLSError("TLS: cannot load client CA certificates from \(caFile): \(TLSError.openSSLError())")
      }
      SSL_CTX_set_client_CA_list(context, names)
      SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
    } else {
      SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
    }
  }

  private func loadCertificate(_ certificateFile: String, key keyFile: String) throws(TLSError) {
    guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
      throw TLSError("TLS: cannot load the certificate chain from \(certificateFile): \(TLSError.openSSLError())")
    }
    guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
      throw TLSError("TLS: cannot load the private key from \(keyFile): \(TLSError.openSSLError())")
    }
    guard SSL_CTX_check_private_key(context) == 1 else {
      throw TLSError("TLS: the private key in \(keyFile) does not match the certificate in \(certificateFile)")
    }
  }
}
