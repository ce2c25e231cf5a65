import GuestAccessStorage

/// Turns outbox messages into MIME messages: `multipart/alternative` with a
/// plain-text and an HTML part (UTF-8, quoted-printable), RFC 2047 encoded
/// names and subjects, Date and Message-ID.
public struct EmailRenderer: Sendable {
  /// The configured sender (From and envelope sender).
  public var sender: EmailAddress

  /// Creates a renderer sending as `sender`.
  public init(sender: EmailAddress) {
    self.sender = sender
  }

  /// The MIME message of an outbox message. Its Date is the time the message
  /// was queued and its Message-ID derives from the outbox row, so rendering
  /// the same row again yields the same bytes.
  public func render(_ message: OutboxMessage) -> EmailMessage {
    let content = EmailContent(message: message, senderName: sender.name)
    let payload = message.payload
    let messageID = "ga.\(message.kind.rawValue).\(message.id).\(message.createdAt)@\(sender.domain)"
    let boundary = "=_ga_\(message.id)_\(message.createdAt)"
    var head = ""
    head += MIMEEncoding.header("Date", tokens: [CivilTime(unixMillis: message.createdAt).rfc5322])
    head += MIMEEncoding.header("From", tokens: EmailAddress(name: content.senderName, address: sender.address).headerTokens)
    if message.kind == .invitation, EmailAddress.isPlausible(payload.inviterMail) {
      head += MIMEEncoding.header("Reply-To", tokens: EmailAddress(name: payload.inviterName, address: payload.inviterMail).headerTokens)
    }
    head += MIMEEncoding.header("To", tokens: EmailAddress(name: payload.invitedName, address: message.recipient).headerTokens)
    if !message.cc.isEmpty {
      head += MIMEEncoding.header("Cc", tokens: [message.cc])
    }
    head += MIMEEncoding.header("Subject", tokens: MIMEEncoding.unstructured(content.subject))
    head += MIMEEncoding.header("Message-ID", tokens: ["<\(messageID)>"])
    head += MIMEEncoding.header("MIME-Version", tokens: ["1.0"])
    head += MIMEEncoding.header("Content-Language", tokens: [content.language])
    head += MIMEEncoding.header("Auto-Submitted", tokens: ["auto-generated"])
    // A sign-in passcode is about a guest (its id in `invitationID`), not an invitation.
    let about = message.kind == .signInPasscode ? "X-GuestAccess-Guest" : "X-GuestAccess-Invitation"
    head += MIMEEncoding.header(about, tokens: [message.invitationID])
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
    var recipients = [message.recipient]
    if !message.cc.isEmpty && message.cc != message.recipient { recipients.append(message.cc) }
    return EmailMessage(envelopeSender: sender.address, recipients: recipients, messageID: messageID, data: Array((head + body).utf8))
  }
}
