/// What a server negotiates with ALPN.
public enum TLSApplicationProtocol: Sendable, Hashable {
  /// The RPC protocol's identifier (`guestaccess/1`); a client offering only others is refused.
  case rpc
  /// `http/1.1` for an HTTP listener, when the client offers it.
  case http1
}

/// How a server presents itself over TLS.
public struct TLSServerOptions: Sendable, Hashable {
  /// PEM file with the server certificate, then any intermediate certificates.
  public var certificateFile: String
  /// PEM file with the certificate's private key.
  public var keyFile: String
  /// PEM file with the CAs that issue client certificates; when set, every
  /// client must present a certificate they issued (mutual TLS).
  public var clientCAFile: String?

  /// Creates options.
  public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
    self.certificateFile = certificateFile
    self.keyFile = keyFile
    self.clientCAFile = clientCAFile
  }
}

/// How a client connects over TLS: which servers it trusts, the name it
/// expects, and the certificate it presents if the server asks for one.
public struct TLSConfiguration: Sendable, Hashable {
  /// PEM file with the CAs to trust; nil trusts the system's CA store.
  public var caFile: String?
  /// PEM file with the client certificate (and intermediates) for mutual TLS.
  public var certificateFile: String?
  /// PEM file with the client certificate's key (defaults to `certificateFile`).
  public var keyFile: String?
  /// The name the server's certificate must carry (and the SNI sent); nil
  /// uses the host connected to.
  public var serverName: String?
  /// Accepts any server certificate, from anyone: the connection is
  /// encrypted but not authenticated, so a machine in the middle can read
  /// and change everything. For tests against throwaway certificates only.
  public var insecureSkipVerify: Bool

  /// Creates options; the defaults trust the system's CA store and verify the host name.
  public init(
    caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil,
    insecureSkipVerify: Bool = false
  ) {
    self.caFile = caFile
    self.certificateFile = certificateFile
    self.keyFile = keyFile
    self.serverName = serverName
    self.insecureSkipVerify = insecureSkipVerify
  }
}
