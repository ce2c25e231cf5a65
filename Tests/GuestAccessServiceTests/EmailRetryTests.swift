import Foundation
import GuestAccessClient
import GuestAccessEmail
import GuestAccessServer
import GuestAccessStorage
import Testing

/// Refusals, an unreachable relay, and restarts: retries with backoff, final
/// failure states, and no message lost or sent twice.
@Suite("Email retries and restarts", .enabled(if: aiosmtpdAvailable, "needs Debian's python3-aiosmtpd (Scripts/lib/install-deps.sh)"))
struct EmailRetryTests {
  static func invite(_ tenant: TestTenant, _ mail: String) async throws -> Invitation {
    try await tenant.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: mail, sendInvitationMessage: true)).invitation
  }

  static func emailFailures(_ tenant: TestTenant) async throws -> [AuditEvent] {
    try await tenant.adminClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000, actions: [.invitationEmailFailed])).events
  }

  @Test func temporaryRefusalsAreRetriedWithBackoffThenFail() async throws {
    let sink = try await SMTPSink.start()
    defer { sink.stop() }
    try sink.setMode("data451")
    try await withTestServer(configure: { settings in
      settings.useSMTP(sink)
      settings.email.maxAttempts = 3
      settings.email.retryDelay = 30
    }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let start = server.clock.nowMillis()
      let invitation = try await Self.invite(contoso, "guest@example.org")
      var delivery = try await waitForDelivery(contoso, invitation.id) { $0.attempts == 1 && !$0.failureReason.isEmpty }
      #expect(delivery.status == .queued)
      #expect(delivery.failureReason.contains("451 4.3.0 queue full"), "\(delivery.failureReason)")
      #expect(delivery.nextAttemptAt == start + 30_000)
      // Nothing happens before the retry is due.
      try await Task.sleep(for: .milliseconds(150))
      #expect(try await waitForDelivery(contoso, invitation.id) { _ in true }.attempts == 1)
      server.clock.advance(seconds: 30)
      delivery = try await waitForDelivery(contoso, invitation.id) { $0.attempts == 2 }
      #expect(delivery.status == .queued)
      #expect(delivery.nextAttemptAt == start + 30_000 + 60_000)
      server.clock.advance(seconds: 60)
      delivery = try await waitForDelivery(contoso, invitation.id) { $0.status == .failed }
      #expect(delivery.attempts == 3)
      #expect(delivery.failureReason.contains("451"))
      #expect(delivery.nextAttemptAt == 0)
      let failures = try await Self.emailFailures(contoso)
      #expect(failures.count == 1)
      #expect(failures.first?.targetID == invitation.id && failures.first?.outcome == .failure && failures.first?.actorType == .system)
      let stored = try await server.app.store.read { try $0.latestOutboxMessage(invitationID: invitation.id, kind: .invitation) }
      #expect(stored?.payload == .erased)
      #expect(try sink.received().isEmpty)
      // A resend queues a fresh message, which goes through once the relay recovers.
      try sink.setMode("accept")
      _ = try await contoso.adminClient.invitations.resendInvitation(ResendInvitationRequest(invitationID: invitation.id))
      delivery = try await waitForDelivery(contoso, invitation.id) { $0.status == .sent }
      #expect(delivery.attempts == 1)
      #expect(try sink.received().count == 1)
    }
  }

  @Test func aRetryDeliversAfterTheRelayRecovers() async throws {
    let sink = try await SMTPSink.start()
    defer { sink.stop() }
    try sink.setMode("data451")
    try await withTestServer(configure: { $0.useSMTP(sink) }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let invitation = try await Self.invite(contoso, "guest@example.org")
      _ = try await waitForDelivery(contoso, invitation.id) { $0.attempts == 1 && !$0.failureReason.isEmpty }
      try sink.setMode("accept")
      server.clock.advance(seconds: 30)
      let delivery = try await waitForDelivery(contoso, invitation.id) { $0.status == .sent }
      #expect(delivery.attempts == 2 && delivery.failureReason.isEmpty)
      #expect(try sink.received().map(\.rcptTos) == [["guest@example.org"]])
    }
  }

  @Test func permanentRefusalsFailAtOnce() async throws {
    let sink = try await SMTPSink.start()
    defer { sink.stop() }
    try await withTestServer(configure: { $0.useSMTP(sink) }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      // 550 for the recipient.
      let rejected = try await Self.invite(contoso, "reject-me@example.org")
      var delivery = try await waitForDelivery(contoso, rejected.id) { $0.status == .failed }
      #expect(delivery.attempts == 1)
      #expect(delivery.failureReason.contains("550 5.1.1 no such user here"), "\(delivery.failureReason)")
      // 554 at the end of DATA.
      try sink.setMode("data554")
      let refused = try await Self.invite(contoso, "guest@example.org")
      delivery = try await waitForDelivery(contoso, refused.id) { $0.status == .failed }
      #expect(delivery.attempts == 1 && delivery.failureReason.contains("554"))
      #expect(try await Self.emailFailures(contoso).map(\.targetID).sorted() == [rejected.id, refused.id].sorted())
      // A refused cc does not keep the invitee from getting the mail.
      try sink.setMode("accept")
      let withCC = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "third@example.org", sendInvitationMessage: true, messageInfo: InvitationMessageInfo(ccRecipient: "reject-cc@contoso.com")))
      delivery = try await waitForDelivery(contoso, withCC.invitation.id) { $0.status == .sent }
      #expect(try sink.received().map(\.rcptTos) == [["third@example.org"]])
    }
  }

  @Test func anUnreachableRelayIsRetriedThenFails() async throws {
    // A port nobody listens on: connections are refused at once.
    let closedPort = try await SMTPSink.unusedPort()
    try await withTestServer(configure: { settings in
      settings.email.transport = .smtp
      settings.email.smtp = SMTPConfiguration(host: "127.0.0.1", port: closedPort, connectTimeout: 1, commandTimeout: 1)
      settings.email.maxAttempts = 2
      settings.email.retryDelay = 10
    }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let invitation = try await Self.invite(contoso, "guest@example.org")
      var delivery = try await waitForDelivery(contoso, invitation.id) { $0.attempts == 1 && !$0.failureReason.isEmpty }
      #expect(delivery.status == .queued)
      #expect(delivery.failureReason.contains("cannot connect to 127.0.0.1:\(closedPort)"), "\(delivery.failureReason)")
      server.clock.advance(seconds: 10)
      delivery = try await waitForDelivery(contoso, invitation.id) { $0.status == .failed }
      #expect(delivery.attempts == 2 && delivery.failureReason.contains("refused"))
      #expect(try await Self.emailFailures(contoso).count == 1)
    }
  }

  @Test func aGracefulRestartMidQueueDeliversEachMessageOnce() async throws {
    let sink = try await SMTPSink.start()
    defer { sink.stop() }
    try sink.setMode("hold=0.15")
    let dataDir = NSTemporaryDirectory() + "guestaccess-email-restart-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let clock = TestClock()
    var invitations: [Invitation] = []
    var tenantSecret = ""
    try await withTestServer(dataDir: dataDir, clock: clock, configure: { $0.useSMTP(sink) }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      tenantSecret = contoso.secret
      for index in 0..<8 { invitations.append(try await Self.invite(contoso, "guest\(index)@example.org")) }
      _ = try await sink.waitForMessages(2)
    }
    let beforeRestart = try sink.received().count
    #expect(beforeRestart < 8)
    try sink.setMode("accept")
    try await withTestServer(dataDir: dataDir, clock: clock, configure: { $0.useSMTP(sink) }) { server in
      let received = try await sink.waitForMessages(8)
      try await Task.sleep(for: .milliseconds(200))
      #expect(try sink.received().count == 8)
      #expect(received.flatMap(\.rcptTos).sorted() == (0..<8).map { "guest\($0)@example.org" }.sorted())
      let admin = server.client(tenantSecret)
      for invitation in invitations {
        let delivery = try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: invitation.id)).emailDelivery
        #expect(delivery.status == .sent && delivery.attempts == 1)
      }
    }
  }
}

extension SMTPSink {
  /// A loopback port that was free a moment ago.
  static func unusedPort() async throws -> Int {
    let output = try await runPython(["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
    guard let port = Int(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
      throw TestFailure("no port")
    }
    return port
  }
}
