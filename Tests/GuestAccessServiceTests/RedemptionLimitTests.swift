import GuestAccessClient
import GuestAccessServer
import Synchronization
import Testing

/// Every counter is checked and moved in the write that it guards: attempts
/// fired at once cannot slip past a limit between a read and a write.
@Suite("Redemption and invitation limits under concurrency")
struct RedemptionLimitTests {
  /// 400 bad tickets at once from one address get at most 20 evaluations;
  /// the same address still redeems a valid ticket with the invited
  /// account's key, and still completes a passcode redemption.
  @Test func concurrentBadTicketsGetNoMoreEvaluationsThanTheLimit() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let giovanna = try await proseware.makeUser("Giovanna", mail: "giovanna@proseware.com")
      let forGiovanna = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "giovanna@proseware.com"))
      let forSam = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "sam@contractor.example"))
      let attackers = (0..<4).map { _ in server.client(nil) }
      let outcomes = await outcomeCounts(400) { index in
        _ = try await attackers[index % 4].invitations.redeemInvitation(RedeemInvitationRequest(ticket: "tkt_guess\(index)"))
      }
      #expect(outcomes["TICKET_NOT_FOUND"] == 20, "\(outcomes)")
      #expect(outcomes["REDEMPTION_RATE_LIMITED"] == 400 - 20, "\(outcomes)")
      // Locked out for lookups that miss: a wrong session id too.
      await expectError(.resourceExhausted, reason: .redemptionRateLimited) {
        try await attackers[0].invitations.completeRedemption(CompleteRedemptionRequest(redemptionSessionID: "rds_guess", passcode: "12345678"))
      }
      // The invited account, from the same address, is not locked out.
      let redeemed = try await giovanna.client.invitations.redeemInvitation(RedeemInvitationRequest(ticket: forGiovanna.invitation.ticket))
      #expect(redeemed.result == .accepted)
      // Nor is an email passcode guest behind the same address.
      let anonymous = server.client(nil)
      let sent = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: forSam.invitation.ticket))
      #expect(sent.result == .passcodeSent)
      let passcode = try await server.queuedPasscode(invitationID: forSam.invitation.id)
      let done = try await anonymous.invitations.completeRedemption(
        CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: passcode))
      #expect(done.guest.externalUserState == .accepted)
      // The window passes: unknown tickets are answered NOT_FOUND again.
      server.clock.advance(seconds: 600)
      await expectError(.notFound, reason: .ticketNotFound) {
        try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: "tkt_later"))
      }
    }
  }

  /// Wrong passcodes sent at once use up exactly the session's attempts.
  @Test func concurrentWrongPasscodesUseExactlyTheAttempts() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "pat@freelance.example"))
      let anonymous = server.client(nil)
      let sent = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      let passcode = try await server.queuedPasscode(invitationID: created.invitation.id)
      let wrong = passcode == "00000000" ? "11111111" : "00000000"
      let reasons = await outcomeCounts(40) { _ in
        _ = try await anonymous.invitations.completeRedemption(
          CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: wrong))
      }
      #expect(reasons == ["PASSCODE_INVALID": 5, "PASSCODE_ATTEMPTS_EXCEEDED": 35], "\(reasons)")
      await expectError(.failedPrecondition, reason: .passcodeAttemptsExceeded) {
        try await anonymous.invitations.completeRedemption(CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: passcode))
      }
      let failures = try await contoso.adminClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events
        .filter { $0.action == .invitationRedeemed && $0.outcome == .failure }
      #expect(failures.count == 5)
    }
  }

  /// A tenant's invitation rate limit holds for invitations created at once.
  @Test func concurrentInvitationsStopAtTheTenantLimit() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      _ = try await admin.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(invitationRateLimit: 10, invitationRateWindowSeconds: 3600),
        updateMask: ["invitation_rate_limit", "invitation_rate_window_seconds"]))
      let batch = try await admin.invitations.createInvitations(CreateInvitationsRequest(
        invitations: (0..<40).map { CreateInvitationRequest(invitedEmail: "guest\($0)@partner.example") }))
      #expect(batch.succeededCount == 10)
      #expect(batch.results.filter { $0.reason == "INVITE_RATE_LIMITED" }.count == 30)
      let singles = await withTaskGroup(of: Bool.self) { group in
        for index in 0..<20 {
          group.addTask {
            (try? await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "late\(index)@partner.example"))) != nil
          }
        }
        var created = 0
        for await ok in group where ok { created += 1 }
        return created
      }
      #expect(singles == 0)
    }
  }
}

/// Runs `call` `count` times at once; counts the outcomes: "OK", or the error's reason (else its code).
func outcomeCounts(_ count: Int, _ call: @escaping @Sendable (Int) async throws -> Void) async -> [String: Int] {
  await withTaskGroup(of: String.self) { group in
    for index in 0..<count {
      group.addTask {
        do {
          try await call(index)
          return "OK"
        } catch let error as RPCError {
          return error.reason?.rawValue ?? error.code.name
        } catch {
          return "\(error)"
        }
      }
    }
    var counts: [String: Int] = [:]
    for await outcome in group { counts[outcome, default: 0] += 1 }
    return counts
  }
}
