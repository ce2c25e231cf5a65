import Foundation
import GuestAccessClient
import GuestAccessTransport
import GuestAccessServer
import GuestAccessTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// TLS on a full server, with certificates the test makes (Scripts/dev-certs):
/// clients from outside the project (openssl s_client, Python's ssl module)
/// negotiate the protocol's ALPN identifier and get SERVING; the client
/// library fails with a clear error on a wrong CA, an expired certificate or
/// a wrong host name; mutual TLS refuses clients without a certificate from
/// its CA and records the client certificate in audit events; certificates
/// reload while a stream stays up.
@Suite(.serialized) struct TLSTests {
  /// Runs a TLS server with `certificates`' server certificate; clients trust their CA.
  private func withTLSServer(
    _ certificates: TestCertificates, clientCA: String? = nil, clientCertificate: (certificate: String, key: String)? = nil,
    reloadInterval: Double = 0, dataDir: String? = nil, clock: TestClock? = nil, _ body: (TestServer) async throws -> Void
  ) async throws {
    let clientTLS = TLSConfiguration(
      caFile: certificates.caFile, certificateFile: clientCertificate?.certificate, keyFile: clientCertificate?.key)
    try await withTestServer(dataDir: dataDir, clock: clock, clientTLS: clientTLS, configure: { settings in
      settings.tls = try TLSSettings(
        certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey, clientCAFile: clientCA,
        reloadInterval: reloadInterval, host: settings.host, environment: [:])
    }, body)
  }

  /// The failure of a Health.Check with `tls` against `port`.
  private func healthFailure(port: Int, host: String = "127.0.0.1", _ tls: TLSConfiguration?) async -> RPCError? {
    let client = GuestAccessClient(host: host, port: port, tls: tls, retryPolicy: .none)
    defer { client.close() }
    do {
      _ = try await client.health.check(HealthCheckRequest(), options: CallOptions(timeout: .seconds(10).scaled))
      return nil
    } catch {
      return error as? RPCError
    }
  }

  @Test func openSSLAndPythonClientsNegotiateALPNAndGetServing() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    try await withTLSServer(certificates) { server in
      let sClient = try await Subprocess.run(
        "/usr/bin/env",
        ["openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-alpn", TLSContext.alpnProtocol, "-CAfile", certificates.caFile,
         "-verify_hostname", "localhost", "-verify_return_error"],
        input: [], timeout: .seconds(30))
      #expect(sClient.stdoutText.contains("ALPN protocol: guestaccess/1"), "\(sClient.stdoutText)")
      #expect(sClient.stdoutText.contains("TLSv1.3"), "\(sClient.stdoutText)")
      #expect(sClient.stdoutText.contains("Verify return code: 0 (ok)"), "\(sClient.stdoutText)")
      // Python speaks the protocol from docs/PROTOCOL.md over ssl: preface, Health.Check, response.
      let script = """
        import socket, ssl, sys
        sys.path.insert(0, sys.argv[3] + "/Scripts/bench")
        import wire_capture as w
        context = ssl.create_default_context(cafile=sys.argv[2])
        context.set_alpn_protocols(["guestaccess/1"])
        with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                print("alpn", tls.selected_alpn_protocol(), tls.version())
                tls.sendall(w.PREFACE + w.frame(1, 0, 1, w.call_headers("/guestaccess.v1.Health/Check")) + w.frame(2, 1, 1, b""))
                assert w.read_exact(tls, 8) == w.PREFACE
                while True:
                    kind, flags, call, payload = w.read_frame(tls)
                    if kind == 2:
                        print("status", payload.hex())
                    if kind == 3:
                        break
        """
      let python = try await Subprocess.run(
        "/usr/bin/env", ["python3", "-c", script, "\(server.port)", certificates.caFile, TestCertificates.repositoryRoot],
        timeout: .seconds(30))
      #expect(python.status == 0, "\(python.stdoutText)\(python.stderrText)")
      #expect(python.stdoutText.contains("alpn guestaccess/1 TLSv1.3"), "\(python.stdoutText)")
      #expect(python.stdoutText.contains("status 0801"), "SERVING is 08 01: \(python.stdoutText)")
      // A client offering only another protocol is refused (no_application_protocol).
      let h2 = try await Subprocess.run(
        "/usr/bin/env", ["openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-alpn", "h2", "-CAfile", certificates.caFile],
        input: [], timeout: .seconds(30))
      #expect(h2.stderrText.contains("no application protocol"), "\(h2.stderrText)")
    }
  }

  @Test func clientLibraryWorksAndRejectsWrongCAExpiredAndWrongName() async throws {
    let certificates = try await TestCertificates.make()
    let other = try await TestCertificates.make()
    defer {
      certificates.remove()
      other.remove()
    }
    try await withTLSServer(certificates) { server in
      // Real work over TLS.
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      let invitation = try await tenant.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "a@partner.example"))
      #expect(invitation.invitation.invitedEmail == "a@partner.example")
      // By name: the certificate carries localhost.
      #expect(await healthFailure(port: server.port, host: "localhost", TLSConfiguration(caFile: certificates.caFile)) == nil)
      let wrongCA = await healthFailure(port: server.port, TLSConfiguration(caFile: other.caFile))
      #expect(wrongCA?.code == .unavailable)
      #expect(wrongCA?.message.contains("certificate verify failed: unable to get local issuer certificate") == true, "\(String(describing: wrongCA))")
      let wrongName = await healthFailure(port: server.port, TLSConfiguration(caFile: certificates.caFile, serverName: "billing.example"))
      #expect(wrongName?.message.contains("certificate verify failed: hostname mismatch") == true, "\(String(describing: wrongName))")
      // Skipping verification is possible, and explicit.
      #expect(await healthFailure(port: server.port, TLSConfiguration(insecureSkipVerify: true)) == nil)
      let missingCA = await healthFailure(port: server.port, TLSConfiguration(caFile: "/nonexistent/ca.pem"))
      #expect(missingCA?.code == .failedPrecondition)
      #expect(missingCA?.message.contains("/nonexistent/ca.pem") == true, "\(String(describing: missingCA))")
    }
    let expired = try await certificates.makeServer("expired", days: -1)
    try await withTestServer(clientTLS: TLSConfiguration(insecureSkipVerify: true), configure: { settings in
      settings.tls = try TLSSettings(certificateFile: expired.certificate, keyFile: expired.key, host: settings.host, environment: [:])
    }) { server in
      let error = await healthFailure(port: server.port, TLSConfiguration(caFile: certificates.caFile))
      #expect(error?.message.contains("certificate verify failed: certificate has expired") == true, "\(String(describing: error))")
    }
  }

  @Test func mutualTLSRefusesOtherClientsAndAuditsTheCertificate() async throws {
    let certificates = try await TestCertificates.make()
    let other = try await TestCertificates.make()
    defer {
      certificates.remove()
      other.remove()
    }
    let billing = try await certificates.makeClient("billing", uri: "spiffe://example.test/billing")
    let stranger = try await other.makeClient("stranger")
    try await withTLSServer(certificates, clientCA: certificates.caFile, clientCertificate: billing) { server in
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      _ = try await tenant.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "a@partner.example"))
      let events = try await tenant.adminClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 100))
      let created = try #require(events.events.first { $0.action == .invitationCreated })
      let details = Dictionary(uniqueKeysWithValues: created.details.map { ($0.key, $0.value) })
      #expect(details["tls_client_subject"] == "CN=billing,O=GuestAccess development", "\(details)")
      #expect(details["tls_client_uris"] == "spiffe://example.test/billing", "\(details)")
      // No certificate: the server ends the handshake.
      let none = await healthFailure(port: server.port, TLSConfiguration(caFile: certificates.caFile))
      #expect(none?.code == .unavailable)
      #expect(none?.message.contains("certificate required") == true, "\(String(describing: none))")
      // A certificate from another CA.
      let foreign = await healthFailure(
        port: server.port, TLSConfiguration(caFile: certificates.caFile, certificateFile: stranger.certificate, keyFile: stranger.key))
      #expect(foreign?.code == .unavailable)
      #expect(foreign?.message.contains("unknown ca") == true, "\(String(describing: foreign))")
    }
  }

  @Test func aCertificateBoundCredentialIsRefusedFromAnyOtherCertificate() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    let billing = try await certificates.makeClient("billing", uri: "spiffe://example.test/billing")
    let reports = try await certificates.makeClient("reports", uri: "spiffe://example.test/reports")
    var boundSecret = ""
    var subjectSecret = ""
    let dataDir = NSTemporaryDirectory() + "guestaccess-bound-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let clock = TestClock()
    try await withTLSServer(certificates, clientCA: certificates.caFile, clientCertificate: billing, dataDir: dataDir, clock: clock) { server in
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      let user = try await tenant.adminClient.tenants.createUser(CreateUserRequest(displayName: "Billing", mail: "billing@contoso.example"))
      let bound = try await tenant.adminClient.tenants.issueCredential(IssueCredentialRequest(
        userID: user.id, displayName: "billing-service", clientCertificateIdentity: "spiffe://example.test/billing"))
      #expect(bound.credential.clientCertificateIdentity == "spiffe://example.test/billing")
      boundSecret = bound.secret
      subjectSecret = try await tenant.adminClient.tenants.issueCredential(IssueCredentialRequest(
        userID: user.id, clientCertificateIdentity: "CN=billing,O=GuestAccess development")).secret
      // From the bound certificate (by URI SAN, and by subject): accepted.
      for secret in [boundSecret, subjectSecret] {
        let client = server.client(secret)
        defer { client.close() }
        _ = try await client.tenants.getTenant(GetTenantRequest())
      }
      // The same keys from another certificate of the same CA: refused.
      let tls = TLSConfiguration(caFile: certificates.caFile, certificateFile: reports.certificate, keyFile: reports.key)
      for secret in [boundSecret, subjectSecret] {
        let thief = GuestAccessClient(host: "127.0.0.1", port: server.port, credential: secret, tls: tls, retryPolicy: .none)
        defer { thief.close() }
        await expectError(.unauthenticated, reason: .credentialCertificateMismatch) { try await thief.tenants.getTenant(GetTenantRequest()) }
      }
      // Its rotated successor keeps the binding: accepted from the bound certificate only.
      let rotated = try await tenant.adminClient.tenants.rotateCredential(RotateCredentialRequest(credentialID: bound.credential.id))
      #expect(rotated.credential.clientCertificateIdentity == "spiffe://example.test/billing")
      let successor = server.client(rotated.secret)
      defer { successor.close() }
      _ = try await successor.tenants.getTenant(GetTenantRequest())
      let successorThief = GuestAccessClient(host: "127.0.0.1", port: server.port, credential: rotated.secret, tls: tls, retryPolicy: .none)
      defer { successorThief.close() }
      await expectError(.unauthenticated, reason: .credentialCertificateMismatch) {
        try await successorThief.tenants.getTenant(GetTenantRequest())
      }
      // An unbound key works from any certificate; a malformed identity is refused at issue time.
      let unbound = GuestAccessClient(host: "127.0.0.1", port: server.port, credential: tenant.secret, tls: tls, retryPolicy: .none)
      defer { unbound.close() }
      _ = try await unbound.tenants.getTenant(GetTenantRequest())
      await expectError(.invalidArgument) {
        try await tenant.adminClient.tenants.issueCredential(IssueCredentialRequest(userID: user.id, clientCertificateIdentity: "CN=a\nCN=b"))
      }
      let events = try await tenant.adminClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 100, actions: [.credentialIssued]))
      #expect(events.events.contains { event in
        event.details.contains { $0.key == "client_certificate_identity" && $0.value == "spiffe://example.test/billing" }
      })
    }
    // The same data served without mutual TLS: no client certificate, so the bound keys are refused.
    try await withTLSServer(certificates, dataDir: dataDir, clock: clock) { server in
      for secret in [boundSecret, subjectSecret] {
        let client = server.client(secret)
        defer { client.close() }
        await expectError(.unauthenticated, reason: .credentialCertificateMismatch) { try await client.tenants.getTenant(GetTenantRequest()) }
      }
    }
  }

  @Test func certificatesReloadWhileAStreamStaysUp() async throws {
    let certificates = try await TestCertificates.make()
    let next = try await TestCertificates.make()
    defer {
      certificates.remove()
      next.remove()
    }
    try await withTLSServer(certificates, reloadInterval: 0.05) { server in
      server.app.health.setStatus(.serving, for: "test.Reload")
      let watcher = server.client(nil)
      defer { watcher.close() }
      let statuses = LockedStatuses()
      let watching = Task {
        try await watcher.health.watch(HealthCheckRequest(service: "test.Reload"), options: CallOptions(timeout: .seconds(60).scaled)) { stream in
          for try await response in stream {
            statuses.append(response.status)
            if response.status == .notServing { return }
          }
        }
      }
      #expect(await statuses.wait { $0 == [.serving] })
      // Swap in a certificate from another CA: new connections get it.
      for (from, to) in [(next.serverKey, certificates.serverKey), (next.serverCertificate, certificates.serverCertificate)] {
        let copied = try copy(from)
        #expect(rename(copied, to) == 0)
      }
      var reloaded = false
      let deadline = ContinuousClock.now + .seconds(10).scaled
      while !reloaded && ContinuousClock.now < deadline {
        reloaded = await healthFailure(port: server.port, TLSConfiguration(caFile: next.caFile)) == nil
        if !reloaded { try await Task.sleep(for: .milliseconds(50)) }
      }
      #expect(reloaded, "new connections present the new certificate")
      let oldCA = await healthFailure(port: server.port, TLSConfiguration(caFile: certificates.caFile))
      #expect(oldCA?.message.contains("certificate verify failed") == true, "\(String(describing: oldCA))")
      // The stream opened before the reload is still up: it sees the next change.
      server.app.health.setStatus(.notServing, for: "test.Reload")
      try await watching.value
      #expect(statuses.value == [.serving, .notServing])
      // An explicit reload (what SIGHUP does) of valid files succeeds; of a broken file fails and keeps serving.
      try server.app.reloadTLS()
      try "not a certificate".write(toFile: certificates.serverCertificate, atomically: true, encoding: .utf8)
      #expect(throws: TLSError.self) { try server.app.reloadTLS() }
      #expect(await healthFailure(port: server.port, TLSConfiguration(caFile: next.caFile)) == nil)
    }
  }

  /// A copy of `path` next to it (for an atomic replace that keeps the original).
  private func copy(_ path: String) throws -> String {
    let target = path + ".copy-" + UUID().uuidString
    try FileManager.default.copyItem(atPath: path, toPath: target)
    return target
  }

  @Test func settingsRefusePlaintextOnANonLoopbackAddress() throws {
    #expect(throws: SettingsError.self) { try TLSSettings(host: "0.0.0.0", environment: [:]) }
    #expect(throws: SettingsError.self) { try TLSSettings(host: "10.1.2.3", environment: [:]) }
    #expect(try TLSSettings(host: "0.0.0.0", environment: ["GUESTD_ALLOW_PLAINTEXT": "1"]).isPlaintextExposed(host: "0.0.0.0"))
    #expect(try TLSSettings(allowPlaintext: true, host: "::", environment: [:]).allowPlaintext)
    #expect(try TLSSettings(host: "127.0.0.1", environment: [:]).server == nil)
    #expect(try TLSSettings(host: "::1", environment: [:]).server == nil)
    let fromEnvironment = try TLSSettings(
      host: "0.0.0.0", environment: ["GUESTD_TLS_CERT": "c.pem", "GUESTD_TLS_KEY": "k.pem", "GUESTD_TLS_CLIENT_CA": "ca.pem", "GUESTD_TLS_RELOAD_INTERVAL": "5"])
    #expect(fromEnvironment.server == TLSServerOptions(certificateFile: "c.pem", keyFile: "k.pem", clientCAFile: "ca.pem"))
    #expect(fromEnvironment.reloadInterval == 5)
    #expect(throws: SettingsError.self) { try TLSSettings(certificateFile: "c.pem", host: "127.0.0.1", environment: [:]) }
    #expect(throws: SettingsError.self) { try TLSSettings(clientCAFile: "ca.pem", host: "127.0.0.1", environment: [:]) }
    #expect(throws: SettingsError.self) {
      try TLSSettings(certificateFile: "c.pem", keyFile: "k.pem", reloadInterval: -1, host: "127.0.0.1", environment: [:])
    }
  }
}

/// Statuses a watch received, for the test to wait on.
private final class LockedStatuses: @unchecked Sendable {
  private let lock = NSLock()
  private var statuses: [ServingStatus] = []

  var value: [ServingStatus] {
    lock.lock()
    defer { lock.unlock() }
    return statuses
  }

  func append(_ status: ServingStatus) {
    lock.lock()
    statuses.append(status)
    lock.unlock()
  }

  func wait(_ condition: ([ServingStatus]) -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(10).scaled
    while ContinuousClock.now < deadline {
      if condition(value) { return true }
      try? await Task.sleep(for: .milliseconds(10))
    }
    return condition(value)
  }
}
