import Foundation
import GuestAccessServer
import GuestAccessTLS
import GuestAccessTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Discovery and JWKS fetched from real servers: the OpenID provider the test
/// suite uses (oidc-provider-mock, from the venv Scripts/test makes) over
/// plain http on loopback, and an https server (openssl s_server) with the
/// test's own CA, size limit and refusals.
@Suite("Provider key fetching")
struct ProviderKeyFetchTests {
  /// The oidc-provider-mock of the venv made by Scripts/test.
  static let providerExecutable = TestCertificates.repositoryRoot + "/.build/oidc-venv/bin/oidc-provider-mock"

  /// Waits until `url` answers 200 (or fails after a few seconds).
  static func waitForServer(_ client: HTTPSClient, _ url: String) async throws {
    let deadline = ContinuousClock.now + .seconds(15).scaled
    while ContinuousClock.now < deadline {
      if let answer = try? await blocking({ try client.get(url, allowPlainLoopback: true) }), answer.status == 200 { return }
      try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("\(url) did not answer")
  }

  @Test func keysOfTheRealProviderVerifyItsOwnKeyID() async throws {
    #expect(FileManager.default.isExecutableFile(atPath: Self.providerExecutable),
            "oidc-provider-mock is missing: Scripts/test creates .build/oidc-venv")
    let provider = try await OIDCProviderMock.start()
    defer { provider.stop() }
    let issuer = provider.issuer
    let client = HTTPSClient(context: try TLSContext(caFile: nil))
    let source = DiscoveryKeySource(client: client, allowPlainLoopback: true)
    let keys = try JSONWebKey.keySet(fromJSON: try await source.keySet(issuer: issuer))
    #expect(keys.count >= 1)
    #expect(keys.allSatisfy { !$0.id.isEmpty })
    // A trailing slash is another issuer: discovery names the exact one.
    await #expect(throws: BlockingSocketError.self) { try await source.keySet(issuer: issuer + "/") }
    // Without the loopback allowance, plain http is refused before connecting.
    let strict = DiscoveryKeySource(client: client, allowPlainLoopback: false)
    await #expect(throws: BlockingSocketError.self) { try await strict.keySet(issuer: issuer) }
  }

  @Test func httpsWithTheTestCAAndASizeLimit() async throws {
    let certificates = try await TestCertificates.make()
    let root = certificates.directory + "/www"
    let port = try await SMTPSink.unusedPort()
    let issuer = "https://localhost:\(port)/tenant"
    try FileManager.default.createDirectory(atPath: root + "/tenant/.well-known", withIntermediateDirectories: true)
    try #"{"issuer": "\#(issuer)", "jwks_uri": "https://localhost:\#(port)/keys.json"}"#
      .write(toFile: root + "/tenant/.well-known/openid-configuration", atomically: true, encoding: .utf8)
    let signer = try TokenSigner(kid: "k1")
    try Data(try TokenSigner.jwks([signer])).write(to: URL(fileURLWithPath: root + "/keys.json"))
    try Data(repeating: 0x20, count: 300 * 1024).write(to: URL(fileURLWithPath: root + "/big.json"))
    let server = try Subprocess(
      executable: "/usr/bin/openssl",
      arguments: ["s_server", "-WWW", "-quiet", "-accept", String(port), "-cert", certificates.serverCertificate, "-key", certificates.serverKey],
      directory: root)
    defer { server.signal(SIGTERM) }
    let trusted = HTTPSClient(context: try TLSContext(caFile: certificates.caFile))
    try await Self.waitForServer(trusted, "https://localhost:\(port)/keys.json")
    let source = DiscoveryKeySource(client: trusted, allowPlainLoopback: false)
    let keys = try JSONWebKey.keySet(fromJSON: try await source.keySet(issuer: issuer))
    #expect(keys.map(\.id) == ["k1"])
    // The size limit holds.
    await #expect(throws: BlockingSocketError.self) {
      try await blocking { try trusted.get("https://localhost:\(port)/big.json", allowPlainLoopback: false) }
    }
    // A server the client's CAs do not vouch for is refused.
    let untrusting = HTTPSClient(context: try TLSContext(caFile: nil))
    await #expect(throws: BlockingSocketError.self) {
      try await blocking { try untrusting.get("https://localhost:\(port)/keys.json", allowPlainLoopback: false) }
    }
  }

  @Test func urlsAreParsedStrictly() {
    #expect(HTTPSClient.Target("https://login.example.com/v2.0") == .init(secure: true, host: "login.example.com", port: 443, path: "/v2.0"))
    #expect(HTTPSClient.Target("http://127.0.0.1:9400") == .init(secure: false, host: "127.0.0.1", port: 9400, path: "/"))
    #expect(HTTPSClient.Target("https://[::1]:8443/x?y=1#f") == .init(secure: true, host: "::1", port: 8443, path: "/x?y=1"))
    #expect(HTTPSClient.Target("https://user@host/") == nil)
    #expect(HTTPSClient.Target("ftp://host/") == nil)
    #expect(HTTPSClient.Target("https://host:99999/") == nil)
  }
}
