import Foundation
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWeb
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 client connection for the web listener tests (reads responses
/// by Content-Length, so several can share a kept-alive connection). Its
/// blocking reads run on a thread of their own, never on the Swift pool: the
/// pages it waits for need that pool.
final class RawHTTPConnection: @unchecked Sendable {
  struct Response: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: String
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
  }

  let fd: Int32
  private var pending: [UInt8] = []

  init(port: Int, timeout: Int = 5) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
      close(fd)
      throw TestFailure("cannot connect to the web listener")
    }
    var limit = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit { close(fd) }

  func send(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  }

  /// Reads one response; nil when the server closed first.
  func read() async -> Response? {
    await offPool { self.readBlocking() }
  }

  /// Whether the server closed the connection (end of stream within the timeout).
  func isClosedByServer() async -> Bool {
    await offPool { self.waitForClose() }
  }

  /// Runs `body` on a thread of its own (`blocking`), off the Swift pool.
  private func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    // `body` cannot throw, so neither can `blocking` here.
    try! await blocking(body)
  }

  private func readBlocking() -> Response? {
    while true {
      if let split = find([13, 10, 13, 10]) {
        let head = String(decoding: pending[..<split], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let status = Int(lines.removeFirst().split(separator: " ")[1]) ?? 0
        let headers = lines.compactMap { line -> (String, String)? in
          guard let colon = line.firstIndex(of: ":") else { return nil }
          return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        if pending.count >= split + 4 + length {
          let body = String(decoding: pending[(split + 4)..<(split + 4 + length)], as: UTF8.self)
          pending.removeFirst(split + 4 + length)
          return Response(status: status, headers: headers, body: body)
        }
      }
      var buffer = [UInt8](repeating: 0, count: 65536)
      let count = recv(fd, &buffer, buffer.count, 0)
      if count <= 0 { return nil }
      pending += buffer[0..<count]
    }
  }

  private func waitForClose() -> Bool {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = recv(fd, &buffer, buffer.count, 0)
      if count == 0 { return true }
      if count < 0 { return errno == ECONNRESET }
    }
  }

  private func find(_ needle: [UInt8]) -> Int? {
    guard pending.count >= needle.count else { return nil }
    for index in 0...(pending.count - needle.count) where Array(pending[index..<(index + needle.count)]) == needle { return index }
    return nil
  }
}

extension RawHTTPConnection.Response {
  /// The value of the hidden `csrf` field of the page.
  var csrf: String? {
    guard let range = body.range(of: "name=\"csrf\" value=\"") else { return nil }
    return String(body[range.upperBound...].prefix { $0 != "\"" })
  }

  /// The session cookie `name=value` set by the response.
  var sessionCookie: String? {
    header("Set-Cookie").map { String($0.prefix { $0 != ";" }) }
  }
}

/// A web listener for `server` on a free port (`configure` adjusts its limits).
func startWeb(
  _ server: TestServer?, configure: (inout HTTPServerConfiguration) -> Void = { _ in }, metrics: (@Sendable () -> [UInt8])? = nil
) throws -> HTTPServer {
  var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
  configure(&configuration)
  let web = try HTTPServer(configuration: configuration, group: EventLoopGroup(count: 1, busyPoll: .zero), logger: Logger(label: "web-test"))
  if let server {
    web.start(handler: WebApp(app: server.app, metrics: metrics, resendCooldown: .seconds(1)))
  } else {
    web.start(handler: WebApp(health: nil, metrics: metrics))
  }
  return web
}
