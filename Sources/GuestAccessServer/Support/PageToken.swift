import GuestAccessBase64
import GuestAccessCore

/// Opaque page tokens: a versioned, base64url-encoded cursor bound to the
/// listing it came from, so a token of one listing is refused by another.
enum PageToken {
  /// Default and maximum page sizes.
  static let defaultSize = 50
  static let maxSize = 1000

  /// Validates a requested page size: 0 means the default, larger than the
  /// maximum is clamped to it, negative is INVALID_ARGUMENT.
  static func size(_ requested: Int32) throws(RPCError) -> Int {
    guard requested >= 0 else { throw RPCError.invalidArgument(field: "page_size", "must not be negative") }
    return requested == 0 ? defaultSize : min(Int(requested), maxSize)
  }

  /// The cursor inside a token ("" for the first page).
  static func cursor(_ token: String, listing: String) throws(RPCError) -> String {
    guard !token.isEmpty else { return "" }
    guard token.utf8.count <= 1024, let bytes = Base64.url.decode(token) else {
      throw RPCError.invalidArgument(field: "page_token", "is not a page token of this listing")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    let prefix = "v1|\(listing)|"
    guard text.hasPrefix(prefix) else {
      throw RPCError.invalidArgument(field: "page_token", "is not a page token of this listing")
    }
    return String(text.dropFirst(prefix.count))
  }

  /// The token for the page after `cursor`.
  static func make(cursor: String, listing: String) -> String {
    Base64.url.encode(Array("v1|\(listing)|\(cursor)".utf8))
  }

  /// Splits a fetched `limit + 1` rows into the page and the next token.
  static func page<T>(_ rows: [T], size: Int, listing: String, cursor: (T) -> String) -> (items: [T], next: String) {
    guard rows.count > size else { return (rows, "") }
    let items = Array(rows.prefix(size))
    return (items, make(cursor: cursor(items[items.count - 1]), listing: listing))
  }
}
