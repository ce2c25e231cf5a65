/// What answers the requests of an `HTTPServer`.
public protocol HTTPHandler: Sendable {
  /// A response computed on the event loop thread without waiting (static
  /// files, metrics, health), or nil to get `respond(to:)` called.
  func respondImmediately(to request: HTTPRequest) -> HTTPResponse?
  /// A response that needs the services (runs in a task preferring the
  /// connection's event loop).
  func respond(to request: HTTPRequest) async -> HTTPResponse
}
