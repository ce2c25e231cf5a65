import GuestAccessTLS

/// One blocking TCP connection to an SMTP server, optionally upgraded to TLS:
/// line-oriented reads with a deadline per reply, whole writes (on a
/// `BlockingSocket`). Used from a single dedicated thread; never on the
/// Swift concurrency pool.
final class SMTPConnection {
  private let socket: BlockingSocket
  private var buffer: [UInt8] = []
  private let timeout: Double

  /// Whether the connection is encrypted.
  var isEncrypted: Bool { socket.isEncrypted }

  /// Whether bytes arrived beyond the last reply (before STARTTLS this is an injection attempt).
  var hasBufferedInput: Bool { !buffer.isEmpty }

  private init(socket: BlockingSocket, timeout: Double) {
    self.socket = socket
    self.timeout = timeout
  }

  /// Connects to `host:port` within `connectTimeout` seconds; reads and
  /// writes then give up after `timeout` seconds without progress.
  static func open(host: String, port: Int, connectTimeout: Double, timeout: Double) throws(EmailDeliveryError) -> SMTPConnection {
    do {
      return SMTPConnection(socket: try BlockingSocket.connect(host: host, port: port, connectTimeout: connectTimeout, timeout: timeout), timeout: timeout)
    } catch {
      throw .transient(error.description)
    }
  }

  /// Sends a command line (CRLF appended).
  func send(line: String) throws(EmailDeliveryError) {
    try send(Array((line + "\r\n").utf8))
  }

  /// Sends all of `bytes`.
  func send(_ bytes: [UInt8]) throws(EmailDeliveryError) {
    do {
      try socket.send(bytes)
    } catch {
      throw .transient(error.description)
    }
  }

  /// Reads one whole reply, waiting at most the timeout for it.
  func readReply() throws(EmailDeliveryError) -> SMTPReply {
    let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
    var lines: [String] = []
    var code = 0
    while true {
      let line = try readLine(deadline: deadline)
      guard let parsed = SMTPReply.parseLine(line), code == 0 || parsed.code == code else {
        throw .transient("malformed reply from the server: \(SMTPReply.truncated(line))")
      }
      code = parsed.code
      lines.append(parsed.text)
      if !parsed.more { return SMTPReply(code: code, lines: lines) }
      guard lines.count < 1000 else { throw .transient("reply of more than 1000 lines") }
    }
  }

  /// Upgrades to TLS (after a 220 reply to STARTTLS), verifying the server as `host`.
  func startTLS(context: TLSContext, host: String) throws(EmailDeliveryError) {
    do {
      try socket.startTLS(context: context, host: host)
    } catch {
      throw .transient(error.description)
    }
  }

  /// Closes the connection (after a TLS close_notify when encrypted).
  func close() {
    socket.close()
  }

  private func readLine(deadline: ContinuousClock.Instant) throws(EmailDeliveryError) -> String {
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        var end = newline
        if end > 0 && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = String(decoding: buffer[..<end], as: UTF8.self)
        buffer.removeSubrange(...newline)
        return line
      }
      guard buffer.count < 64 * 1024 else { throw .transient("reply line longer than 64 KiB") }
      do throws(BlockingSocketError) {
        guard try socket.read(into: &buffer, deadline: deadline) else { throw BlockingSocketError("the server closed the connection") }
      } catch {
        throw .transient(error.description)
      }
    }
  }
}
