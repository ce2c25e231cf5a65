import GuestAccessTLS

/// One HTTP/1.1 request as the web listener received it.
public struct HTTPRequest: Sendable {
  /// The method, e.g. `GET`.
  public var method: String
  /// The path without the query, percent-decoded segments left as sent (e.g. `/redeem`).
  public var path: String
  /// The raw query string after `?` (empty when none).
  public var query: String
  /// Header fields in arrival order, names lower-cased.
  public var headers: [(name: String, value: String)]
  /// The body bytes.
  public var body: [UInt8]
  /// The peer's address, `HOST:PORT`.
  public var peer: String
  /// Whether the connection stays open after the response.
  public var keepAlive: Bool

  /// Creates a request.
  public init(
    method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = [],
    peer: String = "", keepAlive: Bool = true
  ) {
    self.method = method
    self.path = path
    self.query = query
    self.headers = headers
    self.body = body
    self.peer = peer
    self.keepAlive = keepAlive
  }

  /// The first value of a header (`name` lower-case).
  public func header(_ name: String) -> String? {
    headers.first { $0.name == name }?.value
  }

  /// The query parameters, decoded.
  public var queryItems: [String: String] { FormEncoding.decode(query) }

  /// The body as an `application/x-www-form-urlencoded` form, decoded.
  public var form: [String: String] { FormEncoding.decode(String(decoding: body, as: UTF8.self)) }

  /// The value of cookie `name`, if sent.
  public func cookie(_ name: String) -> String? {
    for field in headers where field.name == "cookie" {
      for pair in field.value.split(separator: ";") {
        let trimmed = pair.drop { $0 == " " }
        guard let equals = trimmed.firstIndex(of: "=") else { continue }
        if trimmed[..<equals] == name { return String(trimmed[trimmed.index(after: equals)...]) }
      }
    }
    return nil
  }
}

/// `application/x-www-form-urlencoded` decoding (query strings and form bodies).
public enum FormEncoding {
  /// Name → value; of repeated names the first wins. Malformed escapes are kept as sent.
  public static func decode(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = percentDecode(parts[0])
      if result[name] == nil { result[name] = parts.count > 1 ? percentDecode(parts[1]) : "" }
    }
    return result
  }

  /// Percent-decodes `text`, `+` meaning space.
  public static func percentDecode(_ text: Substring) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = Array(text.utf8)[...]
    while let byte = iterator.popFirst() {
      if byte == UInt8(ascii: "+") {
        bytes.append(UInt8(ascii: " "))
      } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
        let high = hexValue(iterator[iterator.startIndex]), let low = hexValue(iterator[iterator.startIndex + 1])
      {
        bytes.append(high << 4 | low)
        iterator = iterator.dropFirst(2)
      } else {
        bytes.append(byte)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Percent-encodes everything but unreserved characters (for query values).
  public static func percentEncode(_ text: String) -> String {
    PercentEncoding.encode(text)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
