/// Turns email requests into MIME messages: `multipart/alternative` with a
/// plain-text and an HTML part (UTF-8, quoted-printable), RFC 2047 encoded
/// names and subjects, Date and Message-ID.
public struct EmailRenderer: Sendable {
  /// The configured sender (From and envelope sender).
  public var sender: EmailAddress

  /// Creates a renderer sending as `sender`.
  public init(sender: EmailAddress) {
    self.sender = sender
  }

  /// The MIME message of a request. Its Date is the time the request was
  /// queued and its Message-ID derives from its number and that time, so
  /// rendering the same request again yields the same bytes.
  public func render(_ request: EmailRequest) -> EmailMessage {
    let content = EmailContent(request: request, senderName: sender.name)
    let messageID = "ga.\(request.kindName).\(request.number).\(request.queuedAt)@\(sender.domain)"
    let boundary = "=_ga_\(request.number)_\(request.queuedAt)"
    var head = ""
    head += MIMEEncoding.header("Date", tokens: [CivilTime(unixMillis: request.queuedAt).rfc5322])
    head += MIMEEncoding.header("From", tokens: EmailAddress(name: content.senderName, address: sender.address).headerTokens)
    if case .invitation(let invitation) = request.kind, EmailAddress.isPlausible(invitation.inviter.address) {
      head += MIMEEncoding.header("Reply-To", tokens: invitation.inviter.headerTokens)
    }
    head += MIMEEncoding.header("To", tokens: request.recipient.headerTokens)
    if let cc = request.cc {
      head += MIMEEncoding.header("Cc", tokens: [cc])
    }
    head += MIMEEncoding.header("Subject", tokens: MIMEEncoding.unstructured(content.subject))
    head += MIMEEncoding.header("Message-ID", tokens: ["<\(messageID)>"])
    head += MIMEEncoding.header("MIME-Version", tokens: ["1.0"])
    head += MIMEEncoding.header("Content-Language", tokens: [content.language])
    head += MIMEEncoding.header("Auto-Submitted", tokens: ["auto-generated"])
    // A sign-in passcode is about a guest, not an invitation.
    let about = if case .signInPasscode = request.kind { "X-GuestAccess-Guest" } else { "X-GuestAccess-Invitation" }
    head += MIMEEncoding.header(about, tokens: [request.subjectID])
    head += MIMEEncoding.header("Content-Type", tokens: ["multipart/alternative;", "boundary=\"\(boundary)\""])
    var body = "\r\n"
    body += "This is a multipart message in MIME format.\r\n"
    for (type, text) in [("text/plain", content.text), ("text/html", content.html)] {
      body += "\r\n--\(boundary)\r\n"
      body += "Content-Type: \(type); charset=utf-8\r\n"
      body += "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      body += MIMEEncoding.quotedPrintable(text)
    }
    body += "\r\n--\(boundary)--\r\n"
    var recipients = [request.recipient.address]
    if let cc = request.cc, cc != request.recipient.address { recipients.append(cc) }
    return EmailMessage(envelopeSender: sender.address, recipients: recipients, messageID: messageID, data: Array((head + body).utf8))
  }
}
