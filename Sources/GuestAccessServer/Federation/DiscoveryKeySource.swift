import GuestAccessEmail
import GuestAccessTLS

/// The real source of an issuer's keys: its discovery document
/// (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be the
/// issuer exactly), then the `jwks_uri` it names, both over HTTPS with the
/// client's timeouts and size limits, on a thread of its own.
public final class DiscoveryKeySource: ProviderKeySource {
  private let client: HTTPSClient
  private let allowPlainLoopback: Bool
  private let thread = BlockingThread(name: "ga-oidc-fetch")

  /// A source fetching with `client`; plain http only for loopback issuers when `allowPlainLoopback`.
  public init(client: HTTPSClient, allowPlainLoopback: Bool) {
    self.client = client
    self.allowPlainLoopback = allowPlainLoopback
  }

  public func keySet(issuer: String) async throws -> [UInt8] {
    let (client, allow) = (client, allowPlainLoopback)
    return try await thread.run { () throws(BlockingSocketError) -> [UInt8] in
      let document = try ProviderConnector.discovery(issuer: issuer, client: client, allowPlainLoopback: allow)
      guard let jwksURI = document["jwks_uri"]?.string else { throw BlockingSocketError("discovery of \(issuer) has no jwks_uri") }
      let keys = try client.get(jwksURI, allowPlainLoopback: allow)
      guard keys.status == 200 else { throw BlockingSocketError("the keys of \(issuer) answered \(keys.status)") }
      return keys.body
    }
  }
}
