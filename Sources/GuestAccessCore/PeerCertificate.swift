/// Who a client certificate says its holder is, once the server verified it
/// (mutual TLS): the identity a credential can be bound to.
public struct PeerCertificate: Sendable, Hashable, CustomStringConvertible {
  /// The subject's distinguished name (RFC 2253), e.g. `CN=billing,O=Example`.
  public let subject: String
  /// The URI subject alternative names, e.g. `spiffe://example.org/billing`.
  public let uris: [String]

  /// Creates an identity.
  public init(subject: String, uris: [String]) {
    self.subject = subject
    self.uris = uris
  }

  /// Whether `identity` names this certificate: one of its URI SANs, or its subject.
  public func matches(_ identity: String) -> Bool {
    uris.contains(identity) || subject == identity
  }

  public var description: String {
    uris.isEmpty ? subject : "\(subject) [\(uris.joined(separator: ", "))]"
  }
}
