import Foundation
import GuestAccessTestSupport
import Testing

/// Debian's Python, which has `python3-aiosmtpd` (a pyenv `python3` on PATH would not).
let systemPython = "/usr/bin/python3"

/// Whether the SMTP tests can run: Scripts/lib/install-deps.sh installs python3-aiosmtpd.
/// Decided from Debian's package directory, not by starting Python: a trait
/// condition is evaluated synchronously, and Python's start-up would hold a
/// thread of the test pool for a noticeable time on a loaded machine.
let aiosmtpdAvailable: Bool = FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/aiosmtpd/__init__.py")

/// A message as Python's `email` package (policy.default) parses it.
struct ParsedMail: Decodable {
  struct Part: Decodable {
    var contentType: String
    var charset: String?
    var transferEncoding: String?
    var content: String
    var defects: [String]
  }

  struct Address: Decodable, Equatable {
    var name: String
    var address: String
  }

  /// Decoded header values (RFC 2047 words decoded), the last of each name.
  var headers: [String: String]
  var contentType: String
  var defects: [String]
  var parts: [Part]
  var from: [Address]
  var to: [Address]
  var cc: [Address]
  var replyTo: [Address]
  /// Seconds since the epoch of the Date header.
  var date: Double?

  var text: String { parts.first { $0.contentType == "text/plain" }?.content ?? "" }
  var html: String { parts.first { $0.contentType == "text/html" }?.content ?? "" }

  /// Parses `file` with Python's email package.
  static func parse(file: String) async throws -> ParsedMail {
    let script = """
      import email, email.policy, email.utils, json, sys
      raw = open(sys.argv[1], 'rb').read()
      msg = email.message_from_bytes(raw, policy=email.policy.default)
      def addresses(name):
          header = msg[name]
          return [] if header is None else [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]
      parts = []
      for part in msg.walk():
          if part.is_multipart():
              continue
          parts.append({"contentType": part.get_content_type(), "charset": part.get_content_charset(),
                        "transferEncoding": part.get("Content-Transfer-Encoding"),
                        "content": part.get_content().replace("\\r\\n", "\\n"),
                        "defects": [type(d).__name__ for d in part.defects]})
      date = msg["Date"]
      print(json.dumps({
          "headers": {k: str(v) for k, v in msg.items()}, "contentType": msg.get_content_type(),
          "defects": [type(d).__name__ for d in msg.defects], "parts": parts,
          "from": addresses("From"), "to": addresses("To"), "cc": addresses("Cc"), "replyTo": addresses("Reply-To"),
          "date": email.utils.parsedate_to_datetime(date).timestamp() if date else None}))
      """
    let output = try await runPython(["-c", script, file])
    return try JSONDecoder().decode(ParsedMail.self, from: output)
  }
}

/// Runs the system Python (without holding a thread); returns its standard output, throws on a non-zero exit.
func runPython(_ arguments: [String]) async throws -> Data {
  let output = try await Subprocess.run(systemPython, arguments)
  guard output.status == 0 else { throw TestFailure("python failed: \(output.stderrText)") }
  return Data(output.stdout)
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Polls `condition` every 20 ms until it holds or `seconds` (stretched by
/// `TestTime.scale`) pass.
func eventually(_ seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool) async throws {
  let seconds = TestTime.scaled(seconds)
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try await condition() { return }
    try await Task.sleep(for: .milliseconds(20))
  }
  Issue.record("condition not met within \(seconds) s", sourceLocation: sourceLocation)
  throw TestFailure("timed out")
}
