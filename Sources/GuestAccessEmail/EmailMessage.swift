/// A message ready for a transport: the envelope and the RFC 5322 bytes.
public struct EmailMessage: Sendable, Hashable {
  /// The envelope sender (`MAIL FROM`).
  public var envelopeSender: String
  /// The envelope recipients (`RCPT TO`): the primary recipient first, then the cc.
  public var recipients: [String]
  /// The Message-ID without angle brackets; stable for a request (its number and queue time), so a
  /// repeated delivery carries the same id (and the spool file the same name).
  public var messageID: String
  /// The whole message: headers and body, 7-bit ASCII, CRLF line ends.
  public var data: [UInt8]

  /// Creates a message.
  public init(envelopeSender: String, recipients: [String], messageID: String, data: [UInt8]) {
    self.envelopeSender = envelopeSender
    self.recipients = recipients
    self.messageID = messageID
    self.data = data
  }
}
