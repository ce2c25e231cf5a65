#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GuestAccessBase64
import GuestAccessCore
import GuestAccessJSON
import GuestAccessLocks
import GuestAccessTLS

/// The endpoints of a provider's discovery document a browser sign-in uses.
public struct ProviderEndpoints: Sendable, Equatable {
  /// Where the browser is sent to sign in.
  public var authorizationEndpoint: String
  /// Where the code is exchanged for tokens.
  public var tokenEndpoint: String
  /// Whether the client secret goes in the form (`client_secret_post`, when
  /// the provider lists it and not `client_secret_basic`) instead of HTTP Basic.
  public var secretInForm: Bool
}

/// The server's side of talking to identity providers: discovery (cached),
/// the authorization code exchange at the token endpoint, and the issuers'
/// signing keys (`ProviderKeyCache`). Every request goes through one
/// `HTTPSClient` (timeouts, size limits, no redirects; plain http only to
/// loopback providers when allowed) on a thread of its own.
public final class ProviderConnector: Sendable {
  /// How long a discovery document is kept.
  public static let discoveryLifetime: Duration = .seconds(300)

  /// The HTTP(S) client (made on first use).
  private let makeClient: @Sendable () throws -> HTTPSClient
  /// Whether plain http to loopback providers is allowed (`--oidc-allow-http-loopback`).
  public let allowPlainLoopback: Bool
  /// The issuers' signing keys.
  public let keys: ProviderKeyCache
  private let thread = BlockingThread(name: "ga-oidc-sign-in")
  private let discovered = LockedValue<[String: (endpoints: ProviderEndpoints, fetchedAt: ContinuousClock.Instant)]>([:])

  /// A connector with `client`; the key cache fetches through discovery with the same client.
  public init(client: HTTPSClient, allowPlainLoopback: Bool) {
    makeClient = { client }
    self.allowPlainLoopback = allowPlainLoopback
    keys = ProviderKeyCache(source: DiscoveryKeySource(client: client, allowPlainLoopback: allowPlainLoopback))
  }

  /// A connector verifying providers against the system's CA store, read on
  /// the first request of the process (`DiscoveryKeySource.systemClient`):
  /// a server that never meets a provider never reads it.
  public init(allowPlainLoopback: Bool) {
    makeClient = { try DiscoveryKeySource.systemClient.get() }
    self.allowPlainLoopback = allowPlainLoopback
    keys = ProviderKeyCache(source: DiscoveryKeySource(allowPlainLoopback: allowPlainLoopback))
  }

  /// The client, or UNAVAILABLE (PROVIDER_UNAVAILABLE) when the CA store cannot be read.
  private func connectedClient() throws(RPCError) -> HTTPSClient {
    do {
      return try makeClient()
    } catch {
      throw RPCError(code: .unavailable, message: "the system's CA certificates cannot be read: \(error)", reason: .providerUnavailable)
    }
  }

  /// The discovery document of `issuer`, checked: its `issuer` must be the issuer exactly.
  static func discovery(issuer: String, client: HTTPSClient, allowPlainLoopback: Bool) throws(BlockingSocketError) -> JSONValue {
    let trimmed = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
    let answer = try client.get(trimmed + "/.well-known/openid-configuration", allowPlainLoopback: allowPlainLoopback)
    guard answer.status == 200, let document = try? JSONValue.parse(answer.body) else {
      throw BlockingSocketError("discovery of \(issuer) answered \(answer.status)")
    }
    guard document["issuer"]?.string == issuer else { throw BlockingSocketError("discovery of \(issuer) names another issuer") }
    return document
  }

  /// The authorization and token endpoints of `issuer` (cached for `discoveryLifetime`).
  /// UNAVAILABLE (PROVIDER_UNAVAILABLE) when discovery fails.
  public func endpoints(issuer: String) async throws(RPCError) -> ProviderEndpoints {
    let now = ContinuousClock.now
    if let cached = discovered.withLock({ $0[issuer] }), now - cached.fetchedAt < Self.discoveryLifetime { return cached.endpoints }
    let (client, allow) = (try connectedClient(), allowPlainLoopback)
    let result = await thread.run { () -> Result<ProviderEndpoints, BlockingSocketError> in
      Result { () throws(BlockingSocketError) -> ProviderEndpoints in
        let document = try Self.discovery(issuer: issuer, client: client, allowPlainLoopback: allow)
        func endpoint(_ name: String) throws(BlockingSocketError) -> String {
          guard let url = document[name]?.string, let target = HTTPSClient.Target(url), target.secure || (allow && target.isLoopback) else {
            throw BlockingSocketError("discovery of \(issuer) has no usable \(name)")
          }
          return url
        }
        let methods = document["token_endpoint_auth_methods_supported"]?.strings ?? []
        return ProviderEndpoints(
          authorizationEndpoint: try endpoint("authorization_endpoint"), tokenEndpoint: try endpoint("token_endpoint"),
          secretInForm: methods.contains("client_secret_post") && !methods.contains("client_secret_basic"))
      }
    }
    switch result {
    case .success(let endpoints):
      discovered.withLock { $0[issuer] = (endpoints, now) }
      return endpoints
    case .failure(let error):
      throw RPCError(code: .unavailable, message: "the identity provider cannot be reached: \(error.description)", reason: .providerUnavailable)
    }
  }

  /// Exchanges an authorization `code` at the token endpoint (with the
  /// client secret and the PKCE `verifier`) and returns the ID token.
  /// UNAUTHENTICATED (PROVIDER_SIGN_IN_FAILED) when the provider refuses;
  /// UNAVAILABLE (PROVIDER_UNAVAILABLE) when it cannot be reached or answers nonsense.
  public func exchange(
    code: String, verifier: String, redirectURI: String, clientID: String, clientSecret: String, endpoints: ProviderEndpoints
  ) async throws(RPCError) -> String {
    var form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
    var headers: [(String, String)] = []
    if endpoints.secretInForm || clientSecret.isEmpty {
      form += [("client_id", clientID)] + (clientSecret.isEmpty ? [] : [("client_secret", clientSecret)])
    } else {
      let pair = PercentEncoding.encode(clientID) + ":" + PercentEncoding.encode(clientSecret)
      headers.append(("Authorization", "Basic " + Base64.standard.encode(pair.utf8)))
    }
    let (client, allow, sentForm, sentHeaders) = (try connectedClient(), allowPlainLoopback, form, headers)
    let sent = await thread.run { () -> Result<HTTPSClient.Response, BlockingSocketError> in
      Result { () throws(BlockingSocketError) in try client.post(endpoints.tokenEndpoint, form: sentForm, headers: sentHeaders, allowPlainLoopback: allow) }
    }
    let response: HTTPSClient.Response
    switch sent {
    case .success(let answer): response = answer
    case .failure(let error):
      throw RPCError(code: .unavailable, message: "the identity provider's token endpoint cannot be reached: \(error.description)",
                     reason: .providerUnavailable)
    }
    let document = try? JSONValue.parse(response.body)
    guard response.status == 200 else {
      let error = document?["error"]?.string.map(Self.printable) ?? "HTTP \(response.status)"
      throw RPCError(code: .unauthenticated, message: "the identity provider refused the sign-in code (\(error))", reason: .providerSignInFailed)
    }
    guard let idToken = document?["id_token"]?.string else {
      throw RPCError(code: .unavailable, message: "the identity provider's token endpoint sent no ID token", reason: .providerUnavailable)
    }
    return idToken
  }

  /// At most 64 printable ASCII characters of a provider's text, for messages.
  static func printable(_ text: String) -> String {
    String(String(decoding: text.utf8.filter { $0 >= 0x20 && $0 < 0x7F }, as: UTF8.self).prefix(64))
  }
}
