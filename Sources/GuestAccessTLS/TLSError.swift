import COpenSSL

/// A TLS setup or handshake failure, with OpenSSL's reason in words.
public struct TLSError: Error, CustomStringConvertible, Sendable, Hashable {
  /// What failed and why.
  public let message: String

  /// Creates an error.
  public init(_ message: String) {
    self.message = message
  }

  public var description: String { message }

  /// The oldest queued OpenSSL error as text (the queue is cleared).
  public static func openSSLError() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    ga_ssl_error_text(&buffer, buffer.count)
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return text.isEmpty ? "unknown error" : text
  }
}
