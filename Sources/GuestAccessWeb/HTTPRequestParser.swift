import CHTTPParser

/// Why a request stream was refused by the parser or its limits.
enum HTTPParseFailure: Error, Equatable {
  /// Malformed HTTP (the parser's error name).
  case malformed(String)
  /// The request line and headers exceed the limit (431).
  case headersTooLarge
  /// The body exceeds the limit (413).
  case bodyTooLarge
}

/// Incremental request parsing by the nodejs http-parser: bytes in, complete
/// requests out (pipelined ones in order). Loop thread only.
final class HTTPRequestParser {
  // C state at fixed addresses: the callbacks run inside `http_parser_execute`
  // and read the parser through the pointer it passes.
  private let parser = UnsafeMutablePointer<http_parser>.allocate(capacity: 1)
  private let settings = UnsafeMutablePointer<http_parser_settings>.allocate(capacity: 1)
  private let maxHeaderBytes: Int
  private let maxBodyBytes: Int
  // The message being parsed.
  private var url: [UInt8] = []
  private var headers: [(name: String, value: String)] = []
  private var field: [UInt8] = []
  private var value: [UInt8] = []
  private var inValue = false
  private var body: [UInt8] = []
  private var headerBytes = 0
  private var failure: HTTPParseFailure?
  /// Requests completed by the last `feed`, without peer.
  private var completed: [HTTPRequest] = []
  /// Whether part of a message has been read (for the request timeout).
  private(set) var inMessage = false

  init(maxHeaderBytes: Int, maxBodyBytes: Int) {
    self.maxHeaderBytes = maxHeaderBytes
    self.maxBodyBytes = maxBodyBytes
    parser.initialize(to: http_parser())
    settings.initialize(to: http_parser_settings())
    http_parser_init(parser, HTTP_REQUEST)
    http_parser_settings_init(settings)
    settings.pointee.on_message_begin = { parser in
      HTTPRequestParser.owner(parser).beginMessage()
      return 0
    }
    settings.pointee.on_url = { parser, at, length in
      HTTPRequestParser.owner(parser).append(to: \.url, at, length, header: true)
    }
    settings.pointee.on_header_field = { parser, at, length in
      let owner = HTTPRequestParser.owner(parser)
      if owner.inValue { owner.flushHeader() }
      return owner.append(to: \.field, at, length, header: true)
    }
    settings.pointee.on_header_value = { parser, at, length in
      let owner = HTTPRequestParser.owner(parser)
      owner.inValue = true
      return owner.append(to: \.value, at, length, header: true)
    }
    settings.pointee.on_headers_complete = { parser in
      let owner = HTTPRequestParser.owner(parser)
      if owner.inValue { owner.flushHeader() }
      if let parser, parser.pointee.content_length != UInt64.max, parser.pointee.content_length > UInt64(owner.maxBodyBytes) {
        owner.failure = .bodyTooLarge
        return -1
      }
      return 0
    }
    settings.pointee.on_body = { parser, at, length in
      HTTPRequestParser.owner(parser).append(to: \.body, at, length, header: false)
    }
    settings.pointee.on_message_complete = { parser in
      HTTPRequestParser.owner(parser).completeMessage(parser!)
      return 0
    }
  }

  deinit {
    parser.deallocate()
    settings.deallocate()
  }

  /// Parses `bytes`; returns the requests they completed.
  func feed(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseFailure) -> [HTTPRequest] {
    completed = []
    let unmanaged = Unmanaged.passUnretained(self)
    parser.pointee.data = unmanaged.toOpaque()
    let parsed = bytes.withMemoryRebound(to: CChar.self) { chars in
      http_parser_execute(parser, settings, chars.baseAddress, chars.count)
    }
    if let failure { throw failure }
    if parser.pointee.http_errno != 0 || parsed != bytes.count {
      let name = String(cString: http_errno_name(http_errno(rawValue: parser.pointee.http_errno)))
      throw .malformed(name)
    }
    if inMessage && headerBytes > maxHeaderBytes { throw .headersTooLarge }
    return completed
  }

  private static func owner(_ parser: UnsafeMutablePointer<http_parser>?) -> HTTPRequestParser {
    Unmanaged<HTTPRequestParser>.fromOpaque(parser!.pointee.data).takeUnretainedValue()
  }

  private func beginMessage() {
    inMessage = true
    url.removeAll(keepingCapacity: true)
    headers = []
    field.removeAll(keepingCapacity: true)
    value.removeAll(keepingCapacity: true)
    inValue = false
    body = []
    headerBytes = 0
  }

  private func append(
    to keyPath: ReferenceWritableKeyPath<HTTPRequestParser, [UInt8]>, _ at: UnsafePointer<CChar>?, _ length: Int, header: Bool
  ) -> Int32 {
    guard let at else { return 0 }
    if header {
      headerBytes += length
      if headerBytes > maxHeaderBytes {
        failure = .headersTooLarge
        return -1
      }
    } else if body.count + length > maxBodyBytes {
      failure = .bodyTooLarge
      return -1
    }
    at.withMemoryRebound(to: UInt8.self, capacity: length) { self[keyPath: keyPath].append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
    return 0
  }

  private func flushHeader() {
    headers.append((String(decoding: field, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self)))
    field.removeAll(keepingCapacity: true)
    value.removeAll(keepingCapacity: true)
    inValue = false
  }

  private func completeMessage(_ parser: UnsafeMutablePointer<http_parser>) {
    let target = String(decoding: url, as: UTF8.self)
    let question = target.firstIndex(of: "?")
    let method = String(cString: http_method_str(http_method(rawValue: parser.pointee.method)))
    completed.append(HTTPRequest(
      method: method, path: String(target[..<(question ?? target.endIndex)]),
      query: question.map { String(target[target.index(after: $0)...]) } ?? "", headers: headers, body: body,
      keepAlive: http_should_keep_alive(parser) != 0))
    inMessage = false
    headers = []
    body = []
  }
}
