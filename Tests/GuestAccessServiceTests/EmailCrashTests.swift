import Foundation
import GuestAccessClient
import GuestAccessTestSupport
import Testing

/// The built `guestd` next to the test bundle (or in .build/debug).
let guestdBinary: String? = {
  let candidates = [
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("guestd").path,
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent(".build/debug/guestd").path,
  ]
  return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// `kill -9` of a real `guestd` while the relay holds a message it already
/// stored: after the restart that one message is sent again (SMTP cannot tell
/// the sender it already took it), every other one exactly once.
@Suite(
  "Email delivery across a crash",
  .enabled(if: aiosmtpdAvailable && guestdBinary != nil, "needs python3-aiosmtpd and the built guestd"))
struct EmailCrashTests {
  final class Daemon {
    let process: Subprocess
    let output: String

    init(dataDir: String, smtpPort: Int) throws {
      output = dataDir + "/stdout-\(UUID().uuidString).txt"
      FileManager.default.createFile(atPath: output, contents: nil)
      process = try Subprocess(executable: guestdBinary!, arguments: [
        "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--public-base-url", "https://guests.example.test",
        "--log-level", "critical", "--email-transport", "smtp", "--smtp-host", "127.0.0.1", "--smtp-port", String(smtpPort),
        "--email-retry-delay", "0.2",
      ], environment: ["GUESTD_OPERATOR_KEY": TestServer.operatorKey], stdout: output)
    }

    /// The port from "guestd listening on HOST:PORT".
    func port() async throws -> Int {
      var port = 0
      try await eventually(20) {
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("guestd listening on ") }),
          let value = line.split(separator: ":").last.flatMap({ Int($0) })
        else { return false }
        port = value
        return true
      }
      return port
    }

    func kill9() {
      process.signal(SIGKILL)
      process.waitUntilExit()
    }
  }

  @Test func aCrashAfterTheRelayAcceptedResendsOnlyThatMessage() async throws {
    let sink = try await SMTPSink.start()
    defer { sink.stop() }
    let dataDir = NSTemporaryDirectory() + "guestaccess-email-crash-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dataDir) }

    let first = try Daemon(dataDir: dataDir, smtpPort: sink.port)
    defer { first.kill9() }
    let port = try await first.port()
    let operatorClient = GuestAccessClient(host: "127.0.0.1", port: port, credential: TestServer.operatorKey, retryPolicy: .none)
    let tenant = try await operatorClient.tenants.createTenant(CreateTenantRequest(
      displayName: "Contoso", verifiedDomains: ["contoso.com"], adminDisplayName: "Admin", adminMail: "admin@contoso.com"))
    let admin = GuestAccessClient(host: "127.0.0.1", port: port, credential: tenant.adminSecret, retryPolicy: .none)
    func invite(_ mail: String) async throws -> String {
      try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: mail, sendInvitationMessage: true)).invitation.id
    }
    // One message confirmed sent before the crash.
    let sent = try await invite("one@example.org")
    _ = try await sink.waitForMessages(1)
    try await eventually { try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: sent)).emailDelivery.status == .sent }
    // The relay stores the next message but holds its 250; guestd dies meanwhile, with a third one queued.
    try sink.setMode("hold=30")
    let held = try await invite("two@example.org")
    let queued = try await invite("three@example.org")
    _ = try await sink.waitForMessages(2)
    first.kill9()
    operatorClient.close()
    admin.close()

    try sink.setMode("accept")
    let second = try Daemon(dataDir: dataDir, smtpPort: sink.port)
    defer { second.kill9() }
    let port2 = try await second.port()
    let admin2 = GuestAccessClient(host: "127.0.0.1", port: port2, credential: tenant.adminSecret, retryPolicy: .none)
    defer { admin2.close() }
    _ = try await sink.waitForMessages(4, seconds: 20)
    try await Task.sleep(for: .milliseconds(500))
    let recipients = try sink.received().flatMap(\.rcptTos)
    #expect(recipients.sorted() == ["one@example.org", "three@example.org", "two@example.org", "two@example.org"])
    var attempts: [String: Int32] = [:]
    for id in [sent, held, queued] {
      try await eventually { try await admin2.invitations.getInvitation(GetInvitationRequest(invitationID: id)).emailDelivery.status == .sent }
      attempts[id] = try await admin2.invitations.getInvitation(GetInvitationRequest(invitationID: id)).emailDelivery.attempts
    }
    #expect(attempts == [sent: 1, held: 2, queued: 1])
  }
}
