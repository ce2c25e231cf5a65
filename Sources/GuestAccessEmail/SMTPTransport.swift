#if canImport(Glibc)
import Glibc
#endif

import GuestAccessBase64
import GuestAccessTLS

/// Relays messages to an SMTP server (RFC 5321): EHLO (HELO as a fallback),
/// STARTTLS per policy (OpenSSL, peer verified), AUTH PLAIN or LOGIN when
/// configured, MAIL/RCPT/DATA with dot-stuffing, one connection per message.
/// A 4xx reply or a network failure is a transient failure; a 5xx reply is
/// permanent. A refused cc recipient does not stop delivery to the primary one.
public struct SMTPTransport: EmailTransport {
  /// The relay and its policies.
  public let configuration: SMTPConfiguration
  private let tlsContext: TLSContext?
  public var name: String { "smtp" }

  /// Prepares the transport; fails when TLS is wanted but its CA file cannot be loaded.
  public init(configuration: SMTPConfiguration) throws(EmailDeliveryError) {
    self.configuration = configuration
    do {
      tlsContext = configuration.startTLS == .off ? nil : try TLSContext(caFile: configuration.caFile)
    } catch {
      throw .permanent(error.message)
    }
  }

  public func deliver(_ message: EmailMessage) throws(EmailDeliveryError) -> DeliveryReceipt {
    let config = configuration
    let connection = try SMTPConnection.open(
      host: config.host, port: config.port, connectTimeout: config.connectTimeout, timeout: config.commandTimeout)
    defer { connection.close() }
    let greeting = try connection.readReply()
    guard greeting.code == 220 else { throw greeting.failure(during: "greeting") }
    var extensions = try hello(connection)
    if let tlsContext, extensions["STARTTLS"] != nil {
      let reply = try command(connection, "STARTTLS")
      guard reply.code == 220 else { throw reply.failure(during: "STARTTLS") }
      guard !connection.hasBufferedInput else { throw .transient("STARTTLS: the server sent data before the TLS handshake") }
      try connection.startTLS(context: tlsContext, host: config.host)
      extensions = try hello(connection)
    } else if config.startTLS == .required {
      throw .transient("\(config.host) does not offer STARTTLS, which is required")
    }
    if let username = config.username {
      guard connection.isEncrypted || config.startTLS == .off else {
        throw .transient("\(config.host) does not offer STARTTLS: refusing to send the SMTP password unencrypted")
      }
      try authenticate(connection, username: username, password: config.password ?? "", mechanisms: extensions["AUTH"] ?? [])
    }
    let mail = try command(connection, "MAIL FROM:<\(message.envelopeSender)>")
    guard mail.isPositive else { throw mail.failure(during: "MAIL FROM") }
    var refused: [String: String] = [:]
    for (index, recipient) in message.recipients.enumerated() {
      let reply = try command(connection, "RCPT TO:<\(recipient)>")
      if reply.isPositive { continue }
      // The first recipient is the invitee: without it there is nothing to deliver.
      guard index > 0 else { throw reply.failure(during: "RCPT TO <\(recipient)>") }
      refused[recipient] = reply.description
    }
    let data = try command(connection, "DATA")
    guard data.code == 354 else { throw data.failure(during: "DATA") }
    try connection.send(Self.dotStuffed(message.data))
    let accepted = try connection.readReply()
    guard accepted.isPositive else { throw accepted.failure(during: "end of DATA") }
    _ = try? command(connection, "QUIT")
    return DeliveryReceipt(confirmation: accepted.description, refusedRecipients: refused)
  }

  /// EHLO, or HELO when the server does not know EHLO; returns the
  /// extensions offered (keyword → parameters, upper-cased).
  private func hello(_ connection: SMTPConnection) throws(EmailDeliveryError) -> [String: [String]] {
    let name = configuration.heloName ?? Self.hostName()
    let reply = try command(connection, "EHLO \(name)")
    if reply.isPositive {
      var extensions: [String: [String]] = [:]
      for line in reply.lines.dropFirst() {
        let words = line.uppercased().split(separator: " ").map(String.init)
        if let keyword = words.first { extensions[keyword] = Array(words.dropFirst()) }
      }
      return extensions
    }
    guard reply.code >= 500 else { throw reply.failure(during: "EHLO") }
    let helo = try command(connection, "HELO \(name)")
    guard helo.isPositive else { throw helo.failure(during: "HELO") }
    return [:]
  }

  private func authenticate(
    _ connection: SMTPConnection, username: String, password: String, mechanisms: [String]
  ) throws(EmailDeliveryError) {
    if mechanisms.contains("PLAIN") {
      let token = Base64.standard.encode([0] + Array(username.utf8) + [0] + Array(password.utf8))
      let reply = try command(connection, "AUTH PLAIN " + token)
      guard reply.code == 235 else { throw reply.failure(during: "AUTH PLAIN") }
    } else if mechanisms.contains("LOGIN") {
      var reply = try command(connection, "AUTH LOGIN")
      guard reply.code == 334 else { throw reply.failure(during: "AUTH LOGIN") }
      reply = try command(connection, Base64.standard.encode(username.utf8))
      guard reply.code == 334 else { throw reply.failure(during: "AUTH LOGIN (user name)") }
      reply = try command(connection, Base64.standard.encode(password.utf8))
      guard reply.code == 235 else { throw reply.failure(during: "AUTH LOGIN") }
    } else {
      throw .transient("\(configuration.host) offers neither AUTH PLAIN nor AUTH LOGIN, but a user name is configured")
    }
  }

  private func command(_ connection: SMTPConnection, _ line: String) throws(EmailDeliveryError) -> SMTPReply {
    try connection.send(line: line)
    return try connection.readReply()
  }

  /// The DATA payload: CRLF line ends, a dot doubled at the start of every
  /// line (RFC 5321 §4.5.2), ending with CRLF `.` CRLF.
  static func dotStuffed(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(data.count + 64)
    var lineStart = true
    var previous: UInt8 = 0
    for byte in data {
      if byte == UInt8(ascii: "\n") && previous != UInt8(ascii: "\r") { out.append(UInt8(ascii: "\r")) }
      if lineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
      out.append(byte)
      lineStart = byte == UInt8(ascii: "\n")
      previous = byte
    }
    if !lineStart { out += Array("\r\n".utf8) }
    out += Array(".\r\n".utf8)
    return out
  }

  private static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "localhost" : name
  }
}
