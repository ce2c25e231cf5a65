import GuestAccessClient
import GuestAccessServer
import GuestAccessTestSupport
import Testing

/// The tools against a TLS guestd (certificates from Scripts/dev-certs):
/// guest-probe with grpc_health_probe's -tls flags and exit codes, guestctl
/// with --cacert, --tls-cert and --tls-key (and their environment variables).
@Suite("tools over TLS")
struct TLSToolTests {
  private func withTLSToolServer(
    _ certificates: TestCertificates, clientCA: String? = nil, client: (certificate: String, key: String)? = nil,
    _ body: (ToolServer) async throws -> Void
  ) async throws {
    let tls = TLSConfiguration(caFile: certificates.caFile, certificateFile: client?.certificate, keyFile: client?.key)
    try await withToolServer(clientTLS: tls, configure: { settings in
      settings.tls = try TLSSettings(
        certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey, clientCAFile: clientCA,
        host: settings.host, environment: [:])
    }, body)
  }

  @Test func probeExitsZeroWithTheCAAndTwoWithAnother() async throws {
    let certificates = try await TestCertificates.make()
    let other = try await TestCertificates.make()
    defer {
      certificates.remove()
      other.remove()
    }
    try await withTLSToolServer(certificates) { server in
      let ok = try await Tools.run("guest-probe", ["-addr=\(server.address)", "-tls", "-tls-ca-cert", certificates.caFile])
      #expect(ok.status == 0, "\(ok)")
      #expect(ok.stdout == "status: SERVING\n")
      let byName = try await Tools.run(
        "guest-probe", ["-addr=localhost:\(server.port)", "-tls", "-tls-ca-cert=\(certificates.caFile)", "-user-agent=kubelet",
                        "-rpc-header=x-probe: yes"])
      #expect(byName.status == 0, "\(byName)")
      let wrongCA = try await Tools.run("guest-probe", ["-addr=\(server.address)", "-tls", "-tls-ca-cert", other.caFile])
      #expect(wrongCA.status == 2, "\(wrongCA)")
      #expect(wrongCA.stderr.contains("certificate verify failed"), "\(wrongCA)")
      let wrongName = try await Tools.run(
        "guest-probe", ["-addr=\(server.address)", "-tls", "-tls-ca-cert", certificates.caFile, "-tls-server-name", "billing.example"])
      #expect(wrongName.status == 2, "\(wrongName)")
      #expect(wrongName.stderr.contains("hostname mismatch"), "\(wrongName)")
      let noVerify = try await Tools.run("guest-probe", ["-addr=\(server.address)", "-tls", "-tls-no-verify"])
      #expect(noVerify.status == 0, "\(noVerify)")
      let plaintext = try await Tools.run("guest-probe", ["-addr=\(server.address)"])
      #expect(plaintext.status != 0, "\(plaintext)")
      #expect(plaintext.stderr.contains("requires TLS"), "\(plaintext)")
    }
  }

  /// guest-load with ghz's TLS flags: --cacert verifies, another CA fails
  /// before any load, --skipTLS connects without verifying, --insecure is plaintext.
  @Test func guestLoadTakesGhzTLSFlags() async throws {
    let certificates = try await TestCertificates.make()
    let other = try await TestCertificates.make()
    defer {
      certificates.remove()
      other.remove()
    }
    try await withTLSToolServer(certificates) { server in
      let ok = try await GuestLoad.run(server, "--call", "guestaccess.v1.Health/Check", "-n", "40", "-c", "2", "--cacert", certificates.caFile, "-O", "json")
      #expect(ok.status == 0, "\(ok)")
      #expect(ok.stdout.contains("\"OK\" : 40") || ok.stdout.contains("\"OK\":40"), "\(ok.stdout.prefix(2000))")
      let named = try await GuestLoad.run(server, "--call", "Health/Check", "-n", "5", "--cacert", certificates.caFile, "--cname", "billing.example")
      #expect(named.status == 2 && named.stderr.contains("hostname mismatch"), "\(named)")
      let wrongCA = try await GuestLoad.run(server, "--call", "Health/Check", "-n", "5", "--cacert", other.caFile)
      #expect(wrongCA.status == 2 && wrongCA.stderr.contains("certificate verify failed"), "\(wrongCA)")
      let skip = try await GuestLoad.run(server, "--call", "Health/Check", "-n", "5", "--skipTLS")
      #expect(skip.status == 0, "\(skip)")
      // Plaintext against the TLS port: every call fails (counted in the report, as ghz does).
      let plaintext = try await GuestLoad.run(server, "--call", "Health/Check", "-n", "5", "--insecure", "-O", "json")
      #expect(plaintext.stdout.contains("UNAVAILABLE") && !plaintext.stdout.contains("\"OK\""), "\(plaintext)")
      let both = try await GuestLoad.run(server, "--call", "Health/Check", "-n", "5", "--insecure", "--cacert", certificates.caFile)
      #expect(both.status == 64, "\(both)")
    }
  }

  @Test func probeTLSFlagMistakesAreOne() async throws {
    for arguments in [
      ["-tls-ca-cert", "ca.pem"], ["-tls-no-verify"], ["-tls-server-name", "x"], ["-tls", "-tls-no-verify", "-tls-ca-cert", "ca.pem"],
      ["-tls", "-tls-client-cert", "c.pem"], ["-rpc-header", "no colon"],
    ] {
      let result = try await Tools.run("guest-probe", ["-addr=127.0.0.1:1"] + arguments)
      #expect(result.status == 1, "\(arguments): \(result)")
    }
  }

  @Test func probeAndGuestctlPresentClientCertificates() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    let client = try await certificates.makeClient("ops", uri: "spiffe://example.test/ops")
    try await withTLSToolServer(certificates, clientCA: certificates.caFile, client: client) { server in
      let withCertificate = try await Tools.run(
        "guest-probe", ["-addr=\(server.address)", "-tls", "-tls-ca-cert", certificates.caFile, "-tls-client-cert", client.certificate,
                        "-tls-client-key", client.key])
      #expect(withCertificate.status == 0, "\(withCertificate)")
      let without = try await Tools.run("guest-probe", ["-addr=\(server.address)", "-tls", "-tls-ca-cert", certificates.caFile])
      #expect(without.status != 0, "\(without)")
      // guestctl: flags, then the same through the environment.
      let listed = try await Tools.run(
        "guestctl", ["tenant", "list", "--json", "--server", server.address, "--cacert", certificates.caFile, "--tls-cert", client.certificate,
                     "--tls-key", client.key, "--key", server.operatorKey])
      #expect(listed.status == 0, "\(listed)")
      let environment = [
        "GUESTACCESS_SERVER": "localhost:\(server.port)", "GUESTACCESS_CA_FILE": certificates.caFile,
        "GUESTACCESS_TLS_CERT": client.certificate, "GUESTACCESS_TLS_KEY": client.key, "GUESTACCESS_KEY": server.operatorKey,
      ]
      let fromEnvironment = try await Tools.run("guestctl", ["tenant", "list", "--json"], environment: environment)
      #expect(fromEnvironment.status == 0, "\(fromEnvironment)")
      var noCertificate = environment
      noCertificate["GUESTACCESS_TLS_CERT"] = nil
      noCertificate["GUESTACCESS_TLS_KEY"] = nil
      let refused = try await Tools.run("guestctl", ["tenant", "list", "--json"], environment: noCertificate)
      #expect(refused.status != 0, "\(refused)")
      #expect(refused.stderr.contains("certificate required"), "\(refused)")
    }
  }
}
