import GuestAccessServer

/// Everything the web listener answers: the redemption and sign-in pages,
/// their stylesheet, `/healthz` and `/readyz` for load balancers, and `/metrics`
/// when given a Prometheus exposition.
public struct WebApp: HTTPHandler {
  let pages: RedemptionPages?
  let signIn: SignInPages?
  let health: HealthService?
  let metrics: (@Sendable () -> [UInt8])?

  /// The pages of `app` plus health and, if `metrics` is given, `/metrics`.
  /// - Parameters:
  ///   - sessionLifetime: how long a browser's redemption or sign-in session (its cookie) lives
  ///     before it is signed in (a signed-in session lives as long as its credential).
  ///   - resendCooldown: time before the passcode page offers a new passcode.
  public init(
    app: GuestAccessServerApp, metrics: (@Sendable () -> [UInt8])? = nil, sessionLifetime: Duration = .seconds(1800),
    resendCooldown: Duration = .seconds(60)
  ) {
    let base = app.settings.publicBaseURL
    let gateway = RedemptionGateway(app: app)
    let secure = base.lowercased().hasPrefix("https://")
    pages = RedemptionPages(
      gateway: gateway, sessions: RedemptionSessions(lifetime: sessionLifetime), secureCookies: secure, publicBaseURL: base,
      resendCooldown: resendCooldown)
    signIn = SignInPages(
      gateway: gateway, sessions: WebSessions(lifetime: sessionLifetime), secureCookies: secure, resendCooldown: resendCooldown)
    health = app.health
    self.metrics = metrics
  }

  /// Only health and metrics (the admin listener).
  public init(health: HealthService?, metrics: (@Sendable () -> [UInt8])?) {
    pages = nil
    signIn = nil
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
      if signIn != nil && request.path.hasPrefix("/signin") { return nil }
      return .text(404, "not found\n")
    }
  }

  public func respond(to request: HTTPRequest) async -> HTTPResponse {
    if let signIn, request.path.hasPrefix("/signin") { return await signIn.respond(to: request) }
    guard let pages else { return .text(404, "not found\n") }
    return await pages.respond(to: request)
  }
}
