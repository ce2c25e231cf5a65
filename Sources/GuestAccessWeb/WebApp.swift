import GuestAccessServer

/// Everything the web listener answers: the redemption pages, their
/// stylesheet, `/healthz` and `/readyz` for load balancers, and `/metrics`
/// when given a Prometheus exposition.
public struct WebApp: HTTPHandler {
  let pages: RedemptionPages?
  let health: HealthService?
  let metrics: (@Sendable () -> [UInt8])?

  /// The pages of `app` plus health and, if `metrics` is given, `/metrics`.
  /// - Parameters:
  ///   - sessionLifetime: how long a browser's redemption session (its cookie) lives.
  ///   - resendCooldown: time before the passcode page offers a new passcode.
  public init(
    app: GuestAccessServerApp, metrics: (@Sendable () -> [UInt8])? = nil, sessionLifetime: Duration = .seconds(1800),
    resendCooldown: Duration = .seconds(60)
  ) {
    let base = app.settings.publicBaseURL
    pages = RedemptionPages(
      gateway: RedemptionGateway(app: app), sessions: RedemptionSessions(lifetime: sessionLifetime),
      secureCookies: base.lowercased().hasPrefix("https://"), publicBaseURL: base, resendCooldown: resendCooldown)
    health = app.health
    self.metrics = metrics
  }

  /// Only health and metrics (the admin listener).
  public init(health: HealthService?, metrics: (@Sendable () -> [UInt8])?) {
    pages = nil
    self.health = health
    self.metrics = metrics
  }

  public func respondImmediately(to request: HTTPRequest) -> HTTPResponse? {
    let readOnly = request.method == "GET" || request.method == "HEAD"
    switch request.path {
    case Stylesheet.path where pages != nil:
      return readOnly ? Stylesheet.response : .text(405, "method not allowed\n")
    case "/healthz":
      return readOnly ? .text(200, "ok\n") : .text(405, "method not allowed\n")
    case "/readyz":
      guard readOnly else { return .text(405, "method not allowed\n") }
      let ready = health.map { $0.status(of: "") == .serving } ?? true
      return ready ? .text(200, "ready\n") : .text(503, "not ready\n")
    case "/metrics" where metrics != nil:
      guard readOnly, let metrics else { return .text(405, "method not allowed\n") }
      return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics())
    default:
      if pages != nil && request.path.hasPrefix("/redeem") { return nil }
      return .text(404, "not found\n")
    }
  }

  public func respond(to request: HTTPRequest) async -> HTTPResponse {
    guard let pages else { return .text(404, "not found\n") }
    return await pages.respond(to: request)
  }
}
