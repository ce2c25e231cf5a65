import Foundation
import GuestAccessTestSupport
import Testing

/// A real SMTP server on loopback: Debian's aiosmtpd, run by the system
/// Python from a script written to a temporary directory. Each accepted
/// message becomes `NNNNNN.eml` (the DATA as received) and `NNNNNN.json`
/// (envelope, TLS, AUTH) in its directory.
///
/// Behaviour: recipients whose local part starts with `tempfail` get 451 and
/// `reject` 550 at RCPT. A `mode` file changes DATA: `data451`, `data554`,
/// `hold=SECONDS` (store the message, then wait before answering 250).
/// Options: `tls` (STARTTLS with a fresh self-signed certificate for
/// localhost, required before MAIL), `auth` (AUTH PLAIN/LOGIN required, user
/// `mailer`, password `s3cret`).
final class SMTPSink: @unchecked Sendable {
  struct Received: Decodable {
    var mailFrom: String
    var rcptTos: [String]
    var tls: Bool
    var authLogin: String?
    /// The `.eml` file.
    var file: String = ""

    enum CodingKeys: String, CodingKey {
      case mailFrom = "mail_from", rcptTos = "rcpt_tos", tls, authLogin = "auth_login"
    }
  }

  static let username = "mailer"
  static let password = "s3cret"

  let directory: String
  /// The port it listens on (known once `start` returns).
  private(set) var port = 0
  private let process: Subprocess

  /// The PEM certificate the server presents (with `tls`).
  var certificateFile: String { directory + "/cert.pem" }

  /// Starts a sink and waits (without holding a thread) until it listens.
  static func start(tls: Bool = false, auth: Bool = false) async throws -> SMTPSink {
    let sink = try SMTPSink(tls: tls, auth: auth)
    for _ in 0..<1000 {
      if let text = try? String(contentsOfFile: sink.directory + "/port", encoding: .utf8), let value = Int(text) {
        sink.port = value
        return sink
      }
      guard sink.process.isRunning else { break }
      try await Task.sleep(for: .milliseconds(20))
    }
    throw TestFailure("the SMTP sink did not start")
  }

  private init(tls: Bool, auth: Bool) throws {
    directory = NSTemporaryDirectory() + "guestaccess-smtp-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory + "/mail", withIntermediateDirectories: true)
    let script = directory + "/sink.py"
    try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
    process = try Subprocess(executable: systemPython, arguments: [script, directory] + (tls ? ["--tls"] : []) + (auth ? ["--auth"] : []))
  }

  deinit {
    stop()
  }

  /// Stops the server (SIGKILL: nothing to flush) and removes its directory.
  func stop() {
    process.signal(SIGKILL)
    process.waitUntilExit()
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Sets the DATA behaviour (`accept`, `data451`, `data554`, `hold=0.5`).
  func setMode(_ mode: String) throws {
    try mode.write(toFile: directory + "/mode", atomically: true, encoding: .utf8)
  }

  /// The messages received so far, oldest first.
  func received() throws -> [Received] {
    let mail = directory + "/mail"
    let names = try FileManager.default.contentsOfDirectory(atPath: mail).filter { $0.hasSuffix(".eml") }.sorted()
    return try names.map { name in
      let base = mail + "/" + name.dropLast(4)
      var received = try JSONDecoder().decode(Received.self, from: Data(contentsOf: URL(fileURLWithPath: base + ".json")))
      received.file = base + ".eml"
      return received
    }
  }

  /// Waits until at least `count` messages arrived; returns them.
  func waitForMessages(_ count: Int, seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [Received] {
    try await eventually(seconds, sourceLocation: sourceLocation) { try received().count >= count }
    return try received()
  }

  private static let script = #"""
    import asyncio, json, os, socket, ssl, subprocess, sys, time
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    directory = sys.argv[1]
    options = sys.argv[2:]
    mail = os.path.join(directory, "mail")
    parent = os.getppid()

    def mode():
        try:
            with open(os.path.join(directory, "mode")) as f:
                return f.read().strip()
        except FileNotFoundError:
            return "accept"

    def write_atomically(path, data):
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)

    class Handler:
        counter = 0

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            local = address.split("@")[0]
            if local.startswith("tempfail"):
                return "451 4.2.0 mailbox busy, try again later"
            if local.startswith("reject"):
                return "550 5.1.1 no such user here"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            current = mode()
            if current == "data451":
                return "451 4.3.0 queue full, try again later"
            if current == "data554":
                return "554 5.6.0 message refused"
            Handler.counter += 1
            base = os.path.join(mail, "%06d" % Handler.counter)
            login = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
            meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": session.ssl is not None,
                    "auth_login": login}
            write_atomically(base + ".json", json.dumps(meta).encode())
            write_atomically(base + ".eml", envelope.original_content or envelope.content)
            if current.startswith("hold="):
                await asyncio.sleep(float(current[5:]))
            return "250 2.0.0 queued as %06d" % Handler.counter

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, auth_data=auth_data if ok else None)

    kwargs = {}
    if "--tls" in options:
        cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        kwargs.update(tls_context=context, require_starttls=True)
    if "--auth" in options:
        kwargs.update(authenticator=authenticator, auth_required=True)

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="sink.test", **kwargs)
    controller.start()
    write_atomically(os.path.join(directory, "port"), str(port).encode())
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)
    """#
}
