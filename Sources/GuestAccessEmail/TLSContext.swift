import COpenSSL

/// An OpenSSL client context (TLS 1.2+, peer verification on) shared by the
/// SMTP connections of a transport.
final class TLSContext: @unchecked Sendable {
  // SSL_CTX is safe to use from several threads once configured; it is only configured here.
  let context: OpaquePointer

  /// Verifies peers against `caFile` (PEM), or the system's CA store when nil.
  init(caFile: String?) throws(EmailDeliveryError) {
    guard let context = SSL_CTX_new(TLS_client_method()) else { throw .permanent("TLS: \(Self.lastError())") }
    self.context = context
    guard ga_ssl_ctx_min_tls12(context) == 1 else { throw .permanent("TLS: cannot require TLS 1.2: \(Self.lastError())") }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
    if let caFile {
      guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
        throw .permanent("TLS: cannot load CA certificates from \(caFile): \(Self.lastError())")
      }
    } else {
      guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw .permanent("TLS: no system CA store: \(Self.lastError())") }
    }
  }

  deinit {
    SSL_CTX_free(context)
  }

  /// The oldest queued OpenSSL error as text (the queue is cleared).
  static func lastError() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    ga_ssl_error_text(&buffer, buffer.count)
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return text.isEmpty ? "unknown error" : text
  }
}
