import Foundation
import GuestAccessServer
import GuestAccessTLS
import GuestAccessTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The real OpenID provider the federation tests sign in at:
/// oidc-provider-mock (from the venv Scripts/test makes) on a loopback port.
/// Its authorization page is a form that takes the `sub` to sign in as (and
/// a "deny" button); a user's claims are set with `PUT /users/<sub>`. It
/// does not check PKCE, so only this server's side of PKCE is exercised.
struct OIDCProviderMock: Sendable {
  let issuer: String
  let process: Subprocess
  let client: HTTPSClient

  /// Starts a provider on a free port and waits until its discovery answers.
  /// The port is free when picked but may be taken before the provider binds
  /// it (another test's server, in a parallel run): a provider that exits
  /// before answering is started again on another port.
  static func start() async throws -> OIDCProviderMock {
    let client = HTTPSClient(context: try TLSContext(caFile: nil))
    for _ in 0..<3 {
      let port = try await SMTPSink.unusedPort()
      let log = NSTemporaryDirectory() + "oidc-provider-\(port).log"
      let process = try Subprocess(
        executable: ProviderKeyFetchTests.providerExecutable, arguments: ["-p", String(port)], stdout: log, stderr: log)
      let provider = OIDCProviderMock(issuer: "http://127.0.0.1:\(port)", process: process, client: client)
      let discovery = provider.issuer + "/.well-known/openid-configuration"
      let deadline = ContinuousClock.now + .seconds(15).scaled
      while ContinuousClock.now < deadline, process.isRunning {
        if let answer = try? await blocking({ try client.get(discovery, allowPlainLoopback: true) }), answer.status == 200 {
          return provider
        }
        try await Task.sleep(for: .milliseconds(100))
      }
      provider.stop()
    }
    throw TestFailure("oidc-provider-mock did not start (see its oidc-provider-<port>.log in the temporary directory)")
  }

  func stop() { process.signal(SIGTERM) }

  /// Sets the claims the provider puts in `sub`'s ID token.
  func setUser(_ sub: String, _ claims: [String: Any]) async throws {
    let body = Array(try JSONSerialization.data(withJSONObject: claims))
    let (client, url) = (client, issuer + "/users/" + PercentEncoding.encode(sub))
    let answer = try await blocking {
      try client.send("PUT", url, headers: [("Content-Type", "application/json")], body: body, allowPlainLoopback: true)
    }
    guard answer.status == 204 else { throw TestFailure("PUT /users answered \(answer.status)") }
  }

  /// What the provider sent the browser back with: the query of the redirect.
  struct Callback: Sendable {
    var location: String
    var items: [String: String]
    var code: String { items["code"] ?? "" }
    var state: String { items["state"] ?? "" }
    var error: String { items["error"] ?? "" }
  }

  /// Submits the provider's authorization form for `sub` (or its deny
  /// button) at `authorizationURL`, as a browser would; the redirect it answers.
  func authorize(_ authorizationURL: String, sub: String?) async throws -> Callback {
    let client = client
    let form = sub.map { [("sub", $0)] } ?? [("action", "deny")]
    let answer = try await blocking { try client.post(authorizationURL, form: form, allowPlainLoopback: true) }
    guard answer.status == 302, let location = answer.header("location"), let query = location.split(separator: "?", maxSplits: 1).last else {
      throw TestFailure("the provider answered \(answer.status): \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
    }
    var items: [String: String] = [:]
    for pair in query.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
      items[parts[0]] = parts.count > 1 ? parts[1] : ""
    }
    return Callback(location: location, items: items)
  }

  /// An ID token for `subject` and the client `clientID`, through the
  /// provider's own authorization code flow (its form, then its token endpoint).
  func idToken(clientID: String, subject: String) async throws -> String {
    let redirect = "http://127.0.0.1:1/callback"
    let callback = try await authorize(
      issuer + "/oauth2/authorize?client_id=\(PercentEncoding.encode(clientID))&redirect_uri=\(PercentEncoding.encode(redirect))"
        + "&response_type=code&scope=openid%20email&state=s1&nonce=n1",
      sub: subject)
    let (client, tokenURL) = (client, issuer + "/oauth2/token")
    let form = [
      ("grant_type", "authorization_code"), ("code", callback.code), ("redirect_uri", redirect), ("client_id", clientID),
      ("client_secret", "any"),
    ]
    let answer = try await blocking { try client.post(tokenURL, form: form, allowPlainLoopback: true) }
    guard answer.status == 200, let json = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any],
      let idToken = json["id_token"] as? String
    else { throw TestFailure("the provider issued no ID token (\(answer.status))") }
    return idToken
  }
}
