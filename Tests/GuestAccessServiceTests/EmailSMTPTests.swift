import Foundation
import GuestAccessClient
import GuestAccessEmail
import GuestAccessServer
import GuestAccessStorage
import GuestAccessTestSupport
import Testing

extension ServerSettings {
  /// Deliver through the SMTP sink.
  mutating func useSMTP(_ sink: SMTPSink, host: String = "127.0.0.1", configure: (inout SMTPConfiguration) -> Void = { _ in }) {
    var smtp = SMTPConfiguration(host: host, port: sink.port, connectTimeout: 2, commandTimeout: 5)
    configure(&smtp)
    email.transport = .smtp
    email.smtp = smtp
    email.from = EmailAddress(name: "GuestAccess", address: "no-reply@guests.example.test")
  }
}

/// Invitation and passcode mails delivered to a real SMTP server (aiosmtpd) on loopback.
@Suite("Email over SMTP", .enabled(if: aiosmtpdAvailable, "needs Debian's python3-aiosmtpd (Scripts/lib/install-deps.sh)"))
struct EmailSMTPTests {
  @Test func invitationAndPasscodeMailsArrive() async throws {
    let sink = try await SMTPSink.start()
    defer { sink.stop() }
    try await withTestServer(configure: { $0.useSMTP(sink) }) { server in
      let contoso = try await server.makeTenant("Contoso Ökologie", domain: "contoso.com")
      let inviter = try await contoso.makeUser("Jürgen Groß", mail: "jgross@contoso.com", roles: [.guestInviter])
      let created = try await inviter.client.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "contractor@example.org", invitedDisplayName: "Zoë Contractor", sendInvitationMessage: true,
        messageInfo: InvitationMessageInfo(ccRecipient: "pm@contoso.com", customizedMessageBody: "Bienvenue <Zoë> & co.\nÀ bientôt", messageLanguage: "fr-FR")))
      let invitation = created.invitation
      let received = try await sink.waitForMessages(1)
      #expect(received.count == 1)
      let envelope = received[0]
      #expect(envelope.mailFrom == "no-reply@guests.example.test")
      #expect(envelope.rcptTos == ["contractor@example.org", "pm@contoso.com"])
      #expect(!envelope.tls)
      let mail = try await ParsedMail.parse(file: envelope.file)
      #expect(mail.defects.isEmpty && mail.parts.allSatisfy { $0.defects.isEmpty })
      #expect(mail.contentType == "multipart/alternative")
      #expect(mail.headers["Subject"] == "Jürgen Groß vous invite à accéder aux applications de Contoso Ökologie")
      #expect(mail.from == [.init(name: "GuestAccess pour le compte de Contoso Ökologie", address: "no-reply@guests.example.test")])
      #expect(mail.replyTo == [.init(name: "Jürgen Groß", address: "jgross@contoso.com")])
      #expect(mail.to == [.init(name: "Zoë Contractor", address: "contractor@example.org")])
      #expect(mail.cc == [.init(name: "", address: "pm@contoso.com")])
      #expect(mail.headers["Message-ID"]?.hasPrefix("<ga.invitation.") == true)
      #expect(mail.date == Double(server.clock.nowMillis() / 1000))
      #expect(mail.text.contains(invitation.redeemURL))
      #expect(mail.text.contains("> Bienvenue <Zoë> & co.\n> À bientôt"))
      #expect(mail.html.contains("href=\"\(invitation.redeemURL)\""))
      #expect(mail.html.contains("Bienvenue &lt;Zoë&gt; &amp; co.<br>\nÀ bientôt"))
      #expect(mail.text.contains("Cette invitation expire le"))
      // The invitation shows the delivery; the payload with the redeem link is gone.
      let admin = contoso.adminClient
      try await eventually { try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: invitation.id)).emailDelivery.status == .sent }
      let delivery = try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: invitation.id)).emailDelivery
      #expect(delivery.attempts == 1 && delivery.failureReason.isEmpty && delivery.sentAt == server.clock.nowMillis())
      let stored = try await server.app.store.read { try $0.latestOutboxMessage(invitationID: invitation.id, kind: .invitation) }
      #expect(stored?.status == .sent && stored?.payload == .erased)

      // The passcode path: the code arrives by mail and completes the redemption.
      let anonymous = server.client(nil)
      let started = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: invitation.ticket))
      let both = try await sink.waitForMessages(2)
      #expect(both[1].rcptTos == ["contractor@example.org"])
      let passcodeMail = try await ParsedMail.parse(file: both[1].file)
      #expect(passcodeMail.defects.isEmpty)
      #expect(passcodeMail.headers["Subject"] == "Votre code de vérification pour Contoso Ökologie")
      #expect(passcodeMail.replyTo.isEmpty && passcodeMail.cc.isEmpty)
      let passcode = try #require(SpooledMail.passcode(inText: passcodeMail.text))
      #expect(passcodeMail.html.contains(passcode))
      let done = try await anonymous.invitations.completeRedemption(
        CompleteRedemptionRequest(redemptionSessionID: started.redemptionSessionID, passcode: passcode))
      #expect(done.guest.externalUserState == .accepted)
      // Nothing is sent twice.
      try await Task.sleep(for: .milliseconds(200))
      #expect(try sink.received().count == 2)
    }
  }

  @Test func startTLSWithAuthentication() async throws {
    let sink = try await SMTPSink.start(tls: true, auth: true)
    defer { sink.stop() }
    try await withTestServer(configure: { settings in
      settings.useSMTP(sink, host: "localhost") {
        $0.startTLS = .required
        $0.caFile = sink.certificateFile
        $0.username = SMTPSink.username
        $0.password = SMTPSink.password
      }
    }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "guest@example.org", sendInvitationMessage: true))
      let received = try await sink.waitForMessages(1)
      #expect(received[0].tls)
      #expect(received[0].authLogin == SMTPSink.username)
      let mail = try await ParsedMail.parse(file: received[0].file)
      #expect(mail.text.contains(created.invitation.redeemURL))
      #expect(mail.headers["Subject"] == "Contoso Admin invited you to access applications within Contoso")
    }
  }

  @Test func unverifiableCertificateFailsTheDelivery() async throws {
    let sink = try await SMTPSink.start(tls: true)
    defer { sink.stop() }
    // The system CA store does not know the sink's self-signed certificate.
    try await withTestServer(configure: { settings in
      settings.useSMTP(sink, host: "localhost")
      settings.email.maxAttempts = 1
    }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "guest@example.org", sendInvitationMessage: true))
      let delivery = try await waitForDelivery(contoso, created.invitation.id) { $0.status == .failed }
      #expect(delivery.failureReason.contains("certificate verification failed"), "\(delivery.failureReason)")
      #expect(try sink.received().isEmpty)
    }
  }
}

/// Waits until the invitation's email delivery satisfies `condition`; returns it.
func waitForDelivery(
  _ tenant: TestTenant, _ invitationID: String, seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: @escaping (InvitationEmailDelivery) -> Bool
) async throws -> InvitationEmailDelivery {
  var delivery = InvitationEmailDelivery()
  try await eventually(seconds, sourceLocation: sourceLocation) {
    delivery = try await tenant.adminClient.invitations.getInvitation(GetInvitationRequest(invitationID: invitationID)).emailDelivery
    return condition(delivery)
  }
  return delivery
}
