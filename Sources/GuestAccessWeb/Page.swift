import GuestAccessEmail

/// A server-rendered HTML page: the layout around a body, the security
/// headers every page carries, and the one escaper (`HTMLEscaping`) for text.
struct Page {
  var status = 200
  var language: String
  var title: String
  var body: String
  var extraHeaders: [(name: String, value: String)] = []

  /// Headers on every page: no script, no framing, no referrer (the ticket
  /// is in the redeem URL), nothing cached.
  static let securityHeaders: [(name: String, value: String)] = [
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
  ]

  var response: HTTPResponse {
    let html = """
      <!doctype html>
      <html lang="\(Self.escape(language))">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(Self.escape(title))</title>
      <link rel="stylesheet" href="\(Stylesheet.path)">
      </head>
      <body>
      <main class="card">
      \(body)
      </main>
      </body>
      </html>

      """
    let contentType: [(name: String, value: String)] = [("Content-Type", "text/html; charset=utf-8")]
    return HTTPResponse(status: status, headers: contentType + Self.securityHeaders + extraHeaders, body: Array(html.utf8))
  }

  /// Escaped text.
  static func escape(_ text: String) -> String { HTMLEscaping.escape(text) }

  /// A heading and paragraphs of plain text.
  static func message(_ heading: String, _ paragraphs: String...) -> String {
    "<h1>\(escape(heading))</h1>\n" + paragraphs.map { "<p>\(escape($0))</p>" }.joined(separator: "\n")
  }

  /// A POST form with its CSRF token.
  static func form(action: String, csrf: String, _ content: String) -> String {
    """
    <form method="post" action="\(escape(action))">
    <input type="hidden" name="csrf" value="\(escape(csrf))">
    \(content)
    </form>
    """
  }
}
