import Foundation
import GuestAccessBase64
@testable import GuestAccessEmail
@testable import GuestAccessServer
import GuestAccessStorage
import GuestAccessTestSupport
import Testing

/// MIME rendering without a server: encodings, templates, the spool transport,
/// and Python's `email` package as the independent parser.
@Suite("Email MIME rendering")
struct EmailMIMETests {
  static let sender = EmailAddress(name: "Contoso Invitations", address: "invites@contoso.com")

  static func invitation(language: String = "", custom: String = "Welcome aboard!", cc: String? = nil) -> EmailRequest {
    EmailRequest(
      number: 42, queuedAt: 1_800_000_000_000, subjectID: "inv_1",
      recipient: EmailAddress(name: "Giovanna Carvalho", address: "gcarvalho@proseware.com"), cc: cc, language: language,
      tenantName: "Contoso Ökologie",
      kind: .invitation(
        .init(
          inviter: EmailAddress(name: "Jürgen Groß", address: "jgross@contoso.com"), customMessage: custom,
          redeemURL: "https://guests.example.test/redeem?ticket=tkt_abc&x=1", expiresAt: 1_800_604_800_000)))
  }

  @Test func base64AndQuotedPrintable() {
    #expect(Base64.standard.encode(Array("\u{0}mailer\u{0}s3cret".utf8)) == "AG1haWxlcgBzM2NyZXQ=")
    #expect(Base64.standard.encode(Array("Jürgen".utf8)) == "SsO8cmdlbg==")
    #expect(Base64.standard.encode([]) == "")
    #expect(MIMEEncoding.quotedPrintable("a=b  \nc\u{e9}") == "a=3Db =20\r\nc=C3=A9")
    #expect(MIMEEncoding.quotedPrintable(".start\r\nend\t") == "=2Estart\r\nend=09")
    let long = String(repeating: "x", count: 200)
    let lines = MIMEEncoding.quotedPrintable(long).components(separatedBy: "\r\n")
    #expect(lines.allSatisfy { $0.count <= 76 })
    #expect(lines.dropLast().allSatisfy { $0.hasSuffix("=") })
    #expect(lines.map { $0.hasSuffix("=") ? String($0.dropLast()) : $0 }.joined() == long)
    // Never splits an escape across a soft break.
    let escapes = MIMEEncoding.quotedPrintable(String(repeating: "é", count: 40)).components(separatedBy: "\r\n")
    #expect(escapes.allSatisfy { $0.count <= 76 })
    #expect(escapes.map { $0.hasSuffix("=") ? String($0.dropLast()) : $0 }.joined() == String(repeating: "=C3=A9", count: 40))
  }

  @Test func encodedWordsAndAddresses() {
    let words = MIMEEncoding.encodedWords(String(repeating: "Größe ", count: 20))
    #expect(words.count > 1)
    #expect(words.allSatisfy { $0.count <= 75 && $0.hasPrefix("=?utf-8?B?") && $0.hasSuffix("?=") })
    #expect(EmailAddress(name: "Jürgen", address: "j@x.com").description == "=?utf-8?B?SsO8cmdlbg==?= <j@x.com>")
    #expect(EmailAddress(name: "Ops, Team \"A\"", address: "o@x.com").description == "\"Ops, Team \\\"A\\\"\" <o@x.com>")
    #expect(EmailAddress(name: "Plain Name", address: "p@x.com").description == "Plain Name <p@x.com>")
    #expect(EmailAddress(parsing: "GuestAccess <no-reply@example.com>") == EmailAddress(name: "GuestAccess", address: "no-reply@example.com"))
    #expect(EmailAddress(parsing: "\"A, B\" <ab@example.com>")?.name == "A, B")
    #expect(EmailAddress(parsing: "bare@example.com")?.name == "")
    #expect(EmailAddress(parsing: "not an address") == nil)
    #expect(MIMEEncoding.header("Subject", tokens: MIMEEncoding.unstructured("line\r\nbreak")) == "Subject: line  break\r\n")
  }

  @Test func civilTime() {
    #expect(CivilTime(unixMillis: 0).rfc5322 == "Thu, 1 Jan 1970 00:00:00 +0000")
    #expect(CivilTime(unixMillis: 1_800_000_000_000).rfc5322 == "Fri, 15 Jan 2027 08:00:00 +0000")
    #expect(CivilTime(unixMillis: 951_782_400_000).rfc5322 == "Tue, 29 Feb 2000 00:00:00 +0000")
    #expect(CivilTime(unixMillis: 1_709_251_199_000).rfc5322 == "Thu, 29 Feb 2024 23:59:59 +0000")
    #expect(CivilTime(unixMillis: -86_400_000).rfc5322 == "Wed, 31 Dec 1969 00:00:00 +0000")
  }

  @Test func languages() {
    #expect(EmailStrings.forLanguage("de-CH").language == "de")
    #expect(EmailStrings.forLanguage("FR_ca").language == "fr")
    #expect(EmailStrings.forLanguage("en-US").language == "en")
    #expect(EmailStrings.forLanguage("pt-BR").language == "en")
    #expect(EmailStrings.forLanguage("").language == "en")
  }

  @Test func dotStuffingKeepsMessagesIntact() {
    let data = Array("a\r\n.hidden\r\n..two\r\nlast".utf8)
    #expect(String(decoding: SMTPTransport.dotStuffed(data), as: UTF8.self) == "a\r\n..hidden\r\n...two\r\nlast\r\n.\r\n")
    #expect(String(decoding: SMTPTransport.dotStuffed(Array(".\nx\n".utf8)), as: UTF8.self) == "..\r\nx\r\n.\r\n")
  }

  @Test func invitationParsesAsMIME() async throws {
    let custom = "Hi <b>Giovanna</b> & team,\nsee you \"soon\".\n.\nBye"
    let message = Self.invitation(language: "de-DE", custom: custom, cc: "pm@contoso.com")
    let email = EmailRenderer(sender: Self.sender).render(message)
    #expect(email.envelopeSender == "invites@contoso.com")
    #expect(email.recipients == ["gcarvalho@proseware.com", "pm@contoso.com"])
    #expect(email.data.allSatisfy { $0 < 128 })
    let raw = String(decoding: email.data, as: UTF8.self)
    #expect(raw.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
    #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    let mail = try await Self.parse(email)
    #expect(mail.defects.isEmpty && mail.parts.allSatisfy { $0.defects.isEmpty })
    #expect(mail.contentType == "multipart/alternative")
    #expect(mail.parts.map(\.contentType) == ["text/plain", "text/html"])
    #expect(mail.parts.allSatisfy { $0.charset == "utf-8" && $0.transferEncoding == "quoted-printable" })
    #expect(mail.headers["Subject"] == "Jürgen Groß hat Sie zum Zugriff auf Anwendungen von Contoso Ökologie eingeladen")
    #expect(mail.from == [.init(name: "Contoso Invitations im Auftrag von Contoso Ökologie", address: "invites@contoso.com")])
    #expect(mail.replyTo == [.init(name: "Jürgen Groß", address: "jgross@contoso.com")])
    #expect(mail.to == [.init(name: "Giovanna Carvalho", address: "gcarvalho@proseware.com")])
    #expect(mail.cc == [.init(name: "", address: "pm@contoso.com")])
    #expect(mail.date == 1_800_000_000)
    #expect(mail.headers["Message-ID"] == "<ga.invitation.42.1800000000000@contoso.com>")
    #expect(mail.headers["Content-Language"] == "de")
    #expect(mail.text.contains("Hallo Giovanna Carvalho,"))
    #expect(mail.text.contains("> Hi <b>Giovanna</b> & team,\n> see you \"soon\".\n> .\n> Bye"))
    #expect(mail.text.contains("https://guests.example.test/redeem?ticket=tkt_abc&x=1"))
    #expect(mail.text.contains("Diese Einladung läuft am 22. Januar 2027, 08:00 UTC ab."))
    #expect(mail.html.contains("Hi &lt;b&gt;Giovanna&lt;/b&gt; &amp; team,<br>\nsee you &quot;soon&quot;.<br>\n.<br>\nBye"))
    #expect(!mail.html.contains("<b>Giovanna</b>"))
    #expect(mail.html.contains("href=\"https://guests.example.test/redeem?ticket=tkt_abc&amp;x=1\""))
    #expect(mail.html.contains("<html lang=\"de\">"))
  }

  @Test func passcodeParsesAsMIME() async throws {
    let message = EmailRequest(
      number: 7, queuedAt: 1_800_000_000_000, subjectID: "inv_1", recipient: EmailAddress(address: "contractor@example.org"),
      tenantName: "Contoso", kind: .passcode(.init(code: "48213377", expiresAt: 1_800_001_800_000)))
    let mail = try await Self.parse(EmailRenderer(sender: EmailAddress(address: "no-reply@guests.test")).render(message))
    #expect(mail.headers["Subject"] == "Your Contoso verification code")
    #expect(mail.from == [.init(name: "", address: "no-reply@guests.test")])
    #expect(mail.replyTo.isEmpty && mail.cc.isEmpty)
    #expect(SpooledMail.passcode(inText: mail.text) == "48213377")
    #expect(mail.html.contains(">48213377</p>"))
    #expect(mail.text.contains("January 15, 2027, 08:30 UTC"))
  }

  /// A sign-in passcode says it signs in (in the asked language) and names the guest, not an invitation.
  @Test func signInPasscodeParsesAsMIME() async throws {
    let message = EmailRequest(
      number: 8, queuedAt: 1_800_000_000_000, subjectID: "usr_1", recipient: EmailAddress(address: "contractor@example.org"),
      language: "fr", tenantName: "Contoso", kind: .signInPasscode(.init(code: "48213377", expiresAt: 1_800_001_800_000)))
    let mail = try await Self.parse(EmailRenderer(sender: EmailAddress(address: "no-reply@guests.test")).render(message))
    #expect(mail.headers["Subject"] == "Votre code de vérification pour Contoso")
    #expect(mail.headers["X-GuestAccess-Guest"] == "usr_1" && mail.headers["X-GuestAccess-Invitation"] == nil)
    #expect(mail.headers["Message-ID"] == "<ga.sign_in_passcode.8.1800000000000@guests.test>")
    #expect(mail.text.contains("Saisissez ce code pour vous connecter à Contoso en tant qu’invité :"))
    #expect(mail.text.contains("Saisissez-le là où vous avez commencé à vous connecter."))
    #expect(SpooledMail.passcode(inText: mail.text) == "48213377")
  }

  @Test func spoolTransportWritesAtomicallyAndOnce() async throws {
    let directory = NSTemporaryDirectory() + "guestaccess-spool-" + UUID().uuidString + "/nested/outbox"
    defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
    let spool = try SpoolTransport(directory: directory)
    let email = EmailRenderer(sender: Self.sender).render(Self.invitation())
    let receipt = try spool.deliver(email)
    #expect(receipt.confirmation.contains("ga.invitation.42.1800000000000@contoso.com.eml"))
    // A repeated delivery of the same outbox message replaces its file.
    _ = try spool.deliver(email)
    let names = try FileManager.default.contentsOfDirectory(atPath: directory)
    #expect(names == ["ga.invitation.42.1800000000000@contoso.com.eml"])
    let attributes = try FileManager.default.attributesOfItem(atPath: directory)
    #expect((attributes[.posixPermissions] as? Int) == 0o700)
    let mail = try await ParsedMail.parse(file: directory + "/" + names[0])
    #expect(mail.defects.isEmpty && mail.parts.count == 2)
    #expect(mail.headers["Subject"] == "Jürgen Groß invited you to access applications within Contoso Ökologie")
  }

  /// The outbox worker's side: each kind of row becomes the request its
  /// renderer needs, with only that kind's fields, and an empty cc is none.
  @Test func outboxRowsBecomeRequests() {
    let payload = OutboxPayload(
      language: "de-DE", tenantName: "Contoso Ökologie", invitedName: "Giovanna Carvalho", inviterName: "Jürgen Groß",
      inviterMail: "jgross@contoso.com", customMessage: "Welcome aboard!", redeemURL: "https://guests.example.test/redeem?ticket=tkt_abc&x=1",
      passcode: "48213377", expiresAt: 1_800_604_800_000)
    var row = OutboxMessage(
      tenantID: "ten_1", invitationID: "inv_1", kind: .invitation, recipient: "gcarvalho@proseware.com", cc: "pm@contoso.com",
      createdAt: 1_800_000_000_000, payload: payload)
    row.id = 42
    #expect(EmailRequest(row) == Self.invitation(language: "de-DE", cc: "pm@contoso.com"))
    row.kind = .passcode
    row.cc = ""
    let passcode = EmailRequest.Passcode(code: "48213377", expiresAt: 1_800_604_800_000)
    var expected = Self.invitation(language: "de-DE")
    expected.kind = .passcode(passcode)
    #expect(EmailRequest(row) == expected)
    row.kind = .signInPasscode
    row.invitationID = "usr_1"
    expected.kind = .signInPasscode(passcode)
    expected.subjectID = "usr_1"
    #expect(EmailRequest(row) == expected)
  }

  @Test func settingsFromFlagsAndEnvironment() throws {
    let defaults = try EmailSettings(publicBaseURL: "https://guests.contoso.com:8443/base", environment: [:])
    #expect(defaults.transport == .spool && defaults.spoolDir == nil && defaults.smtp == nil)
    #expect(defaults.from == EmailAddress(name: "GuestAccess", address: "no-reply@guests.contoso.com"))
    #expect(defaults.maxAttempts == 8 && defaults.retryDelay == 30)
    #expect(try EmailSettings(publicBaseURL: "http://127.0.0.1:7700", environment: [:]).from.address == "no-reply@localhost")
    let smtp = try EmailSettings(
      transport: "smtp", smtpHost: "relay.contoso.com", smtpUsername: "mailer", smtpStartTLS: "required", publicBaseURL: "http://x",
      environment: ["GUESTD_SMTP_PASSWORD": "pw", "GUESTD_SMTP_PORT": "587", "GUESTD_EMAIL_FROM": "Invites <i@contoso.com>"])
    #expect(smtp.smtp == SMTPConfiguration(
      host: "relay.contoso.com", port: 587, username: "mailer", password: "pw", startTLS: .required, connectTimeout: 10, commandTimeout: 60))
    #expect(smtp.from.name == "Invites")
    #expect(throws: SettingsError.self) { try EmailSettings(transport: "smtp", publicBaseURL: "http://x", environment: [:]) }
    #expect(throws: SettingsError.self) { try EmailSettings(transport: "pigeon", publicBaseURL: "http://x", environment: [:]) }
    #expect(throws: SettingsError.self) {
      try EmailSettings(transport: "smtp", smtpHost: "h", smtpUsername: "u", publicBaseURL: "http://x", environment: [:])
    }
    #expect(throws: SettingsError.self) { try EmailSettings(from: "nobody", publicBaseURL: "http://x", environment: [:]) }
  }

  static func parse(_ email: EmailMessage) async throws -> ParsedMail {
    let file = NSTemporaryDirectory() + "guestaccess-mime-" + UUID().uuidString + ".eml"
    defer { try? FileManager.default.removeItem(atPath: file) }
    try Data(email.data).write(to: URL(fileURLWithPath: file))
    return try await ParsedMail.parse(file: file)
  }
}

/// The outbox payload's stored form: the `key=value` lines rows of earlier
/// versions hold read into the same fields, and a payload survives a round trip.
@Suite("Outbox payload")
struct OutboxPayloadTests {
  @Test func storedFormRoundTripsAndReadsEarlierRows() {
    let payload = OutboxPayload(
      language: "de", tenantName: "Contoso", invitedName: "Giovanna", inviterName: "Jürgen", inviterMail: "j@contoso.com",
      customMessage: "line one\nline two \\ end", redeemURL: "https://x.test/redeem?ticket=t", passcode: "", expiresAt: 1_800_000_000_000)
    #expect(OutboxPayload(encoded: payload.encoded) == payload)
    #expect(!payload.encoded.contains("passcode="))  // empty fields are left out
    // A row written by the version that stored a dictionary (sorted keys, escaped newlines).
    let earlier = "custom_message=a\\nb\nexpires_at=1800604800000\nlanguage=fr\npasscode=48213377\ntenant_name=Contoso\nunknown=kept out"
    let read = OutboxPayload(encoded: earlier)
    #expect(read == OutboxPayload(language: "fr", tenantName: "Contoso", customMessage: "a\nb", passcode: "48213377", expiresAt: 1_800_604_800_000))
    #expect(OutboxPayload(encoded: "") == .erased && OutboxPayload.erased.encoded.isEmpty)
  }
}
