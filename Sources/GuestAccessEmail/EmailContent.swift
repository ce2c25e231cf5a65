/// What an email says, in its language: subject, plain-text and HTML bodies.
public struct EmailContent: Sendable, Hashable {
  /// The subject (plain text).
  public var subject: String
  /// The plain-text part.
  public var text: String
  /// The HTML part.
  public var html: String
  /// The language used (`Content-Language`).
  public var language: String
  /// The sender's display name (`<configured name> on behalf of <tenant>`, translated).
  public var senderName: String

  /// Renders a request's words. `senderName` is the configured sender's
  /// display name ("" for none).
  public init(request: EmailRequest, senderName: String) {
    let strings = EmailStrings.forLanguage(request.language)
    let tenant = request.tenantName.isEmpty ? "GuestAccess" : request.tenantName
    language = strings.language
    self.senderName = senderName.isEmpty ? "" : strings.senderName(senderName, tenant)
    var blocks: [Block] = [.paragraph(strings.greeting(request.recipient.name))]
    switch request.kind {
    case .invitation(let invitation):
      let inviter = invitation.inviter.name.isEmpty ? tenant : invitation.inviter.name
      subject = strings.invitationSubject(inviter, tenant)
      blocks.append(.paragraph(strings.invitationIntro(inviter, invitation.inviter.address, tenant)))
      if !invitation.customMessage.trimmingWhitespace().isEmpty {
        blocks.append(.quote(heading: strings.customMessageHeading(inviter), body: invitation.customMessage))
      }
      blocks.append(.link(intro: strings.acceptLinkIntro, label: strings.acceptButton, url: invitation.redeemURL))
      if let expiry = invitation.expiresAt { blocks.append(.paragraph(strings.invitationExpiry(Self.date(expiry, strings)))) }
      blocks.append(.paragraph(strings.invitationIgnore))
    case .passcode(let passcode), .signInPasscode(let passcode):
      let signIn = if case .signInPasscode = request.kind { true } else { false }
      subject = strings.passcodeSubject(tenant)
      blocks.append(.paragraph(signIn ? strings.signInPasscodeIntro(tenant) : strings.passcodeIntro(tenant)))
      blocks.append(.code(passcode.code))
      if let expiry = passcode.expiresAt {
        let date = Self.date(expiry, strings)
        blocks.append(.paragraph(signIn ? strings.signInPasscodeExpiry(date) : strings.passcodeExpiry(date)))
      }
      blocks.append(.paragraph(strings.passcodeIgnore))
    }
    blocks.append(.footer(strings.footer(tenant)))
    text = blocks.map(\.text).joined(separator: "\n\n") + "\n"
    html = Self.document(title: subject, language: strings.language, body: blocks.map(\.html).joined(separator: "\n"))
  }

  /// An expiry time (Unix ms) as the language writes dates.
  private static func date(_ unixMillis: Int64, _ strings: EmailStrings) -> String {
    strings.date(CivilTime(unixMillis: unixMillis))
  }

  private static func document(title: String, language: String, body: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="\(HTMLEscaping.escape(language))">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(HTMLEscaping.escape(title))</title>
    </head>
    <body style="margin:0;padding:24px;font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1b1b1b;background:#ffffff">
    <div style="max-width:600px;margin:0 auto">
    \(body)
    </div>
    </body>
    </html>

    """
  }
}

/// One piece of a message, rendered both ways.
private enum Block {
  case paragraph(String)
  case quote(heading: String, body: String)
  case link(intro: String, label: String, url: String)
  case code(String)
  case footer(String)

  var text: String {
    switch self {
    case .paragraph(let line), .footer(let line): line
    case .quote(let heading, let body):
      heading + "\n" + MIMEEncoding.normalizedLines(body).map { "> " + $0 }.joined(separator: "\n")
    case .link(let intro, _, let url): intro + "\n" + url
    case .code(let code): "    " + code
    }
  }

  var html: String {
    switch self {
    case .paragraph(let line): "<p>\(HTMLEscaping.escape(line))</p>"
    case .quote(let heading, let body):
      """
      <p>\(HTMLEscaping.escape(heading))</p>
      <blockquote style="margin:0 0 16px 0;padding:8px 16px;border-left:4px solid #c8c8c8;color:#404040">\(HTMLEscaping.paragraph(body))</blockquote>
      """
    case .link(let intro, let label, let url):
      """
      <p><a href="\(HTMLEscaping.escape(url))" style="display:inline-block;padding:10px 20px;background:#0f6cbd;color:#ffffff;text-decoration:none;border-radius:4px">\(HTMLEscaping.escape(label))</a></p>
      <p>\(HTMLEscaping.escape(intro))<br>
      <a href="\(HTMLEscaping.escape(url))">\(HTMLEscaping.escape(url))</a></p>
      """
    case .code(let code):
      "<p style=\"font-size:28px;font-weight:600;letter-spacing:4px;font-family:Consolas,Menlo,monospace\">\(HTMLEscaping.escape(code))</p>"
    case .footer(let line): "<p style=\"margin-top:32px;font-size:12px;color:#616161\">\(HTMLEscaping.escape(line))</p>"
    }
  }
}
