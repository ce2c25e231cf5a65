import GuestAccessLocks
import GuestAccessTLS

/// The real source of an issuer's keys: its discovery document
/// (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be the
/// issuer exactly), then the `jwks_uri` it names, both over HTTPS with the
/// client's timeouts and size limits, on a thread of its own.
public final class DiscoveryKeySource: ProviderKeySource {
  private let makeClient: @Sendable () throws -> HTTPSClient
  private let allowPlainLoopback: Bool
  private let thread = BlockingThread(name: "ga-oidc-fetch")

  /// A source fetching with `client`; plain http only for loopback issuers when `allowPlainLoopback`.
  public init(client: HTTPSClient, allowPlainLoopback: Bool) {
    makeClient = { client }
    self.allowPlainLoopback = allowPlainLoopback
  }

  /// A source verifying providers against the system's CA store. Reading the
  /// store costs milliseconds, so its client is made on the first fetch of
  /// the process and shared by every such source (a server that never meets a
  /// provider token never reads it).
  public init(allowPlainLoopback: Bool) {
    makeClient = { try Self.systemClient.get() }
    self.allowPlainLoopback = allowPlainLoopback
  }

  /// The client verifying against the system's CA store, made once per process on first use.
  static let systemClient = Result { () throws(TLSError) in HTTPSClient(context: try TLSContext(caFile: nil)) }

  public func keySet(issuer: String) async throws -> [UInt8] {
    let (client, allow) = (try makeClient(), allowPlainLoopback)
    return try await thread.run { () throws(BlockingSocketError) -> [UInt8] in
      let document = try ProviderConnector.discovery(issuer: issuer, client: client, allowPlainLoopback: allow)
      guard let jwksURI = document["jwks_uri"]?.string else { throw BlockingSocketError("discovery of \(issuer) has no jwks_uri") }
      let keys = try client.get(jwksURI, allowPlainLoopback: allow)
      guard keys.status == 200 else { throw BlockingSocketError("the keys of \(issuer) answered \(keys.status)") }
      return keys.body
    }
  }
}
