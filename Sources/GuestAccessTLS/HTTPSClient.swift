import CHTTPParser

/// A small blocking HTTP/1.1 client for the identity providers' discovery
/// and key documents and their token endpoints: https through the project's OpenSSL context
/// (plain http only where the caller allows it, for loopback providers),
/// connect and read timeouts, a body size limit, no redirects, and the
/// response parsed by the nodejs http-parser. Run it on a dedicated thread.
public struct HTTPSClient: Sendable {
  /// The TLS client context (system CAs, or a configured CA file).
  public let context: TLSContext
  /// Seconds to connect, and without progress while reading.
  public var connectTimeout: Double = 5
  public var timeout: Double = 5
  /// Bytes a response body may have.
  public var maximumBodyBytes = 256 * 1024
  /// Bytes the status line and headers may have.
  public var maximumHeaderBytes = 16 * 1024

  /// A client verifying servers with `context`.
  public init(context: TLSContext) {
    self.context = context
  }

  /// A URL's parts.
  public struct Target: Sendable, Equatable {
    public var secure: Bool
    public var host: String
    public var port: Int
    public var path: String

    /// Creates a target from its parts.
    public init(secure: Bool, host: String, port: Int, path: String) {
      self.secure = secure
      self.host = host
      self.port = port
      self.path = path
    }

    /// Parses an absolute http(s) URL without user info; nil otherwise.
    public init?(_ url: String) {
      let lower = url.lowercased()
      let rest: Substring
      if lower.hasPrefix("https://") { secure = true; rest = url.dropFirst(8) } else if lower.hasPrefix("http://") { secure = false; rest = url.dropFirst(7) } else { return nil }
      let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
      guard !authority.isEmpty, !authority.contains("@") else { return nil }
      var pathPart = String(rest.dropFirst(authority.count).prefix { $0 != "#" })
      if pathPart.isEmpty || pathPart.hasPrefix("?") { pathPart = "/" + pathPart }
      path = pathPart
      var hostPart = Substring(authority)
      var portText: Substring?
      if authority.hasPrefix("[") {
        guard let close = authority.firstIndex(of: "]") else { return nil }
        hostPart = authority[authority.index(after: authority.startIndex)..<close]
        let after = authority[authority.index(after: close)...]
        if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
      } else if let colon = authority.lastIndex(of: ":") {
        hostPart = authority[..<colon]
        portText = authority[authority.index(after: colon)...]
      }
      host = String(hostPart).lowercased()
      if let portText {
        guard let value = Int(portText), (1...65535).contains(value) else { return nil }
        port = value
      } else {
        port = secure ? 443 : 80
      }
      guard !host.isEmpty, !path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else { return nil }
    }

    /// Whether the host is a loopback address.
    public var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }
  }

  /// A response: the status code, the headers (names lower-cased) and the body.
  public struct Response: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first header named `name` (lower-case).
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
  }

  /// GETs `url`: the status code and body. Plain http only when
  /// `allowPlainLoopback` and the host is loopback.
  public func get(_ url: String, allowPlainLoopback: Bool) throws(BlockingSocketError) -> (status: Int, body: [UInt8]) {
    let response = try send("GET", url, allowPlainLoopback: allowPlainLoopback)
    return (response.status, response.body)
  }

  /// POSTs `form` (application/x-www-form-urlencoded) to `url` with `headers`
  /// added (e.g. `Authorization`); same rules as `get`.
  public func post(
    _ url: String, form: [(String, String)], headers: [(String, String)] = [], allowPlainLoopback: Bool
  ) throws(BlockingSocketError) -> Response {
    let body = form.map { PercentEncoding.encode($0.0) + "=" + PercentEncoding.encode($0.1) }.joined(separator: "&")
    return try send(
      "POST", url, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers, body: Array(body.utf8),
      allowPlainLoopback: allowPlainLoopback)
  }

  /// Sends one request and reads its response (no redirects followed).
  /// Header values must not contain CR or LF.
  public func send(
    _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8] = [], allowPlainLoopback: Bool
  ) throws(BlockingSocketError) -> Response {
    guard let target = Target(url) else { throw BlockingSocketError("not an absolute http(s) URL") }
    guard target.secure || (allowPlainLoopback && target.isLoopback) else { throw BlockingSocketError("\(target.host) must be reached over https") }
    guard headers.allSatisfy({ !($0.0 + $0.1).contains(where: { $0 == "\r" || $0 == "\n" }) }) else {
      throw BlockingSocketError("a header contains a line break")
    }
    let socket = try BlockingSocket.connect(host: target.host, port: target.port, connectTimeout: connectTimeout, timeout: timeout)
    defer { socket.close() }
    if target.secure { try socket.startTLS(context: context, host: target.host) }
    let hostHeader = (target.host.contains(":") ? "[\(target.host)]" : target.host)
      + ((target.secure && target.port == 443) || (!target.secure && target.port == 80) ? "" : ":\(target.port)")
    var head = "\(method) \(target.path) HTTP/1.1\r\nHost: \(hostHeader)\r\nAccept: application/json\r\nUser-Agent: guestd\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
    try socket.send(Array((head + "\r\n").utf8) + body)
    let reader = HTTPResponseReader(maximumHeaderBytes: maximumHeaderBytes, maximumBodyBytes: maximumBodyBytes)
    let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
    var buffer: [UInt8] = []
    while !reader.isComplete {
      buffer.removeAll(keepingCapacity: true)
      let more = try socket.read(into: &buffer, deadline: deadline)
      try reader.feed(buffer, end: !more)
      if !more { break }
    }
    guard reader.isComplete else { throw BlockingSocketError("the server closed the connection before the whole response") }
    return Response(status: reader.status, headers: reader.headers, body: reader.body)
  }
}

/// One HTTP response, parsed by the nodejs http-parser with size limits.
final class HTTPResponseReader {
  private let parser = UnsafeMutablePointer<http_parser>.allocate(capacity: 1)
  private let settings = UnsafeMutablePointer<http_parser_settings>.allocate(capacity: 1)
  private let maximumHeaderBytes: Int
  private let maximumBodyBytes: Int
  private var headerBytes = 0
  private var failure: String?
  private(set) var status = 0
  private(set) var body: [UInt8] = []
  private(set) var isComplete = false
  /// The headers so far (names lower-cased); a field or value may arrive in pieces.
  private(set) var headers: [(name: String, value: String)] = []
  private var field: [UInt8] = []
  private var value: [UInt8] = []
  private var inValue = false

  init(maximumHeaderBytes: Int, maximumBodyBytes: Int) {
    self.maximumHeaderBytes = maximumHeaderBytes
    self.maximumBodyBytes = maximumBodyBytes
    parser.initialize(to: http_parser())
    settings.initialize(to: http_parser_settings())
    http_parser_init(parser, HTTP_RESPONSE)
    http_parser_settings_init(settings)
    settings.pointee.on_header_field = { parser, at, length in HTTPResponseReader.owner(parser).headerPiece(at, length, isValue: false) }
    settings.pointee.on_header_value = { parser, at, length in HTTPResponseReader.owner(parser).headerPiece(at, length, isValue: true) }
    settings.pointee.on_status = { parser, _, length in HTTPResponseReader.owner(parser).countHeader(length) }
    settings.pointee.on_headers_complete = { parser in
      let owner = HTTPResponseReader.owner(parser)
      owner.finishHeader()
      owner.status = Int(parser!.pointee.status_code)
      if parser!.pointee.content_length != UInt64.max, parser!.pointee.content_length > UInt64(owner.maximumBodyBytes) {
        owner.failure = "the response is larger than \(owner.maximumBodyBytes) bytes"
        return -1
      }
      return 0
    }
    settings.pointee.on_body = { parser, at, length in
      let owner = HTTPResponseReader.owner(parser)
      guard owner.body.count + length <= owner.maximumBodyBytes, let at else {
        owner.failure = "the response is larger than \(owner.maximumBodyBytes) bytes"
        return -1
      }
      at.withMemoryRebound(to: UInt8.self, capacity: length) { owner.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
      return 0
    }
    settings.pointee.on_message_complete = { parser in
      HTTPResponseReader.owner(parser).isComplete = true
      return 0
    }
  }

  deinit {
    parser.deallocate()
    settings.deallocate()
  }

  /// Parses `bytes`; `end` tells the parser the stream ended (a body read to the close).
  func feed(_ bytes: [UInt8], end: Bool) throws(BlockingSocketError) {
    parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    let parsed = bytes.withUnsafeBytes { raw in
      raw.withMemoryRebound(to: CChar.self) { http_parser_execute(parser, settings, $0.baseAddress, $0.count) }
    }
    if end { _ = http_parser_execute(parser, settings, nil, 0) }
    if let failure { throw BlockingSocketError(failure) }
    if parser.pointee.http_errno != 0 || parsed != bytes.count {
      throw BlockingSocketError("malformed HTTP response (\(String(cString: http_errno_name(http_errno(rawValue: parser.pointee.http_errno)))))")
    }
  }

  private static func owner(_ parser: UnsafeMutablePointer<http_parser>?) -> HTTPResponseReader {
    Unmanaged<HTTPResponseReader>.fromOpaque(parser!.pointee.data).takeUnretainedValue()
  }

  private func headerPiece(_ at: UnsafePointer<CChar>?, _ length: Int, isValue: Bool) -> Int32 {
    if !isValue && inValue { finishHeader() }
    inValue = isValue
    if let at {
      at.withMemoryRebound(to: UInt8.self, capacity: length) { piece in
        let bytes = UnsafeBufferPointer(start: piece, count: length)
        if isValue { value.append(contentsOf: bytes) } else { field.append(contentsOf: bytes) }
      }
    }
    return countHeader(length)
  }

  private func finishHeader() {
    if !field.isEmpty { headers.append((String(decoding: field, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self))) }
    field.removeAll()
    value.removeAll()
    inValue = false
  }

  private func countHeader(_ length: Int) -> Int32 {
    headerBytes += length
    if headerBytes > maximumHeaderBytes {
      failure = "the response headers are larger than \(maximumHeaderBytes) bytes"
      return -1
    }
    return 0
  }
}
