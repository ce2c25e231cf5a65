import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessTestSupport
import Testing

/// The operator credential: a configured key must be strong and retires the
/// bootstrap key; the metrics endpoint stays on loopback unless allowed.
@Suite("Operator key")
struct OperatorKeyTests {
  @Test func weakConfiguredKeysAreRefused() throws {
    for weak in ["0123456789abcdef0123456789abcdef", String(repeating: "ab", count: 30), "has spaces in it and is long enough to pass the length check"] {
      #expect(throws: SettingsError.self) {
        try ServerSettings(listen: nil, dataDir: nil, publicBaseURL: nil, logLevel: nil, drainTimeout: nil, maxConnections: nil,
                           operatorKey: weak, environment: [:])
      }
    }
    #expect(throws: SettingsError.self) {
      try ServerSettings(listen: nil, dataDir: nil, publicBaseURL: nil, logLevel: nil, drainTimeout: nil, maxConnections: nil,
                         environment: ["GUESTD_OPERATOR_KEY": "short-key-of-thirty-two-chars-00"])
    }
    let strong = Secrets.newSecret(prefix: "gak_")
    let settings = try ServerSettings(listen: nil, dataDir: nil, publicBaseURL: nil, logLevel: nil, drainTimeout: nil, maxConnections: nil,
                                      operatorKey: strong, environment: [:])
    #expect(settings.operatorKey == strong)
  }

  /// First start without a key writes operator.key; a restart with a
  /// configured key revokes that bootstrap key and removes the file.
  @Test func configuredKeyRetiresTheBootstrapKey() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-opkey-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let keyPath = dataDir + "/operator.key"
    var bootstrapKey = ""
    try await withTestServer(dataDir: dataDir, configure: { $0.operatorKey = nil }) { server in
      bootstrapKey = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
      _ = try await server.client(bootstrapKey).tenants.listTenants(ListTenantsRequest())
    }
    try await withTestServer(dataDir: dataDir) { server in
      #expect(!FileManager.default.fileExists(atPath: keyPath))
      await expectError(.unauthenticated, reason: .credentialRevoked) {
        try await server.client(bootstrapKey).tenants.listTenants(ListTenantsRequest())
      }
      _ = try await server.operatorClient.tenants.listTenants(ListTenantsRequest())
    }
  }

  @Test(.enabled(if: guestdBinary != nil, "needs the built guestd"))
  func metricsRefuseANonLoopbackListenerUnlessAllowed() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-metrics-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let refused = try await Subprocess.run(guestdBinary!, [
      "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--metrics-listen", "0.0.0.0:0",
    ], timeout: .seconds(20))
    #expect(refused.status != 0)
    #expect(refused.stderrText.contains("loopback"), "\(refused.stderrText)")
  }
}
