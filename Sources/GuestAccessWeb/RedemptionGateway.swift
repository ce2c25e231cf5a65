import GuestAccessAPI
import GuestAccessCore
import GuestAccessLocks
import GuestAccessProto
import GuestAccessServer

/// The pages' way into the services (redemption and passcode sign-in): the
/// same `InvitationServiceImpl` code as the RPC, behind the same interceptors (metrics, then authentication with a
/// bearer credential when the page has one), with the browser's address as
/// the peer so the per-source redemption limits apply to it.
struct RedemptionGateway: Sendable {
  let service: InvitationServiceImpl
  let interceptors: [any ServerInterceptor]

  init(app: GuestAccessServerApp) {
    service = InvitationServiceImpl(environment: app.environment)
    interceptors = [
      app.callMetrics,
      AuthInterceptor(
        store: app.store, clock: app.environment.clock, anonymousMethods: InvitationServiceImpl.anonymousMethods,
        providerKeys: app.environment.providerKeys),
    ]
  }

  func preview(ticket: String, peer: String) async throws -> InvitationPreview {
    try await call(InvitationService.Method.redeemInvitation, peer: peer, bearer: nil) { context in
      try await service.previewInvitation(ticket: ticket, context: context)
    }
  }

  func decline(ticket: String, peer: String) async throws {
    try await call(InvitationService.Method.redeemInvitation, peer: peer, bearer: nil) { context in
      try await service.declineInvitation(ticket: ticket, context: context)
    }
  }

  func redeem(ticket: String, peer: String, bearer: String?) async throws -> RedeemInvitationResponse {
    try await call(InvitationService.Method.redeemInvitation, peer: peer, bearer: bearer) { context in
      try await service.redeemInvitation(request: RedeemInvitationRequest(ticket: ticket), context: context)
    }
  }

  func complete(sessionID: String, passcode: String, peer: String) async throws -> CompleteRedemptionResponse {
    try await call(InvitationService.Method.completeRedemption, peer: peer, bearer: nil) { context in
      try await service.completeRedemption(
        request: CompleteRedemptionRequest(redemptionSessionID: sessionID, passcode: passcode), context: context)
    }
  }

  func beginFederated(ticket: String, peer: String) async throws -> BeginFederatedRedemptionResponse {
    try await call(InvitationService.Method.beginFederatedRedemption, peer: peer, bearer: nil) { context in
      try await service.beginFederatedRedemption(request: BeginFederatedRedemptionRequest(ticket: ticket), context: context)
    }
  }

  func completeFederated(_ request: CompleteFederatedRedemptionRequest, peer: String) async throws -> CompleteFederatedRedemptionResponse {
    try await call(InvitationService.Method.completeFederatedRedemption, peer: peer, bearer: nil) { context in
      try await service.completeFederatedRedemption(request: request, context: context)
    }
  }

  func beginSignIn(tenantID: String, email: String, language: String, peer: String) async throws -> BeginPasscodeSignInResponse {
    try await call(InvitationService.Method.beginPasscodeSignIn, peer: peer, bearer: nil) { context in
      try await service.beginPasscodeSignIn(
        request: BeginPasscodeSignInRequest(tenantID: tenantID, email: email, language: language), context: context)
    }
  }

  func completeSignIn(sessionID: String, passcode: String, peer: String) async throws -> CompletePasscodeSignInResponse {
    try await call(InvitationService.Method.completePasscodeSignIn, peer: peer, bearer: nil) { context in
      try await service.completePasscodeSignIn(
        request: CompletePasscodeSignInRequest(signInSessionID: sessionID, passcode: passcode), context: context)
    }
  }

  /// Runs `body` as a call of `method` through the interceptors.
  private func call<Result: Sendable>(
    _ method: MethodDescriptor, peer: String, bearer: String?, _ body: @escaping @Sendable (ServerContext) async throws -> Result
  ) async throws -> Result {
    var metadata = Metadata()
    if let bearer { metadata.add("authorization", "Bearer \(bearer)") }
    let context = ServerContext(method: method, metadata: metadata, deadline: .now + .seconds(30), peer: peer)
    let result = LockedValue<Result?>(nil)
    try await Self.run(interceptors[...], context: context) { context in
      let value = try await body(context)
      result.withLock { $0 = value }
    }
    guard let value = result.withLock({ $0 }) else { throw RPCError(code: .internalError, message: "the call returned nothing") }
    return value
  }

  private static func run(
    _ chain: ArraySlice<any ServerInterceptor>, context: ServerContext, last: @escaping @Sendable (ServerContext) async throws -> Void
  ) async throws {
    guard let first = chain.first else { return try await last(context) }
    let rest = chain.dropFirst()
    try await first.intercept(context: context) { context in try await run(rest, context: context, last: last) }
  }
}
