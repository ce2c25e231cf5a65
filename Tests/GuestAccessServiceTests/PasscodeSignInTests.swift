import GuestAccessClient
import GuestAccessStorage
import GuestAccessTestSupport
import Testing

/// The later sign-in of an accepted email passcode guest, through the RPC
/// against a real server, tried as an attacker with their own tenant would.
@Suite("InvitationService: passcode sign-in")
struct PasscodeSignInTests {
  /// A passcode guest signs in again and gets a key of one hour; the key
  /// works, lists what the guest has, and stops at the stated instant.
  @Test func acceptedPasscodeGuestGetsAShortLivedKey() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let group = try await contoso.adminClient.tenants.createGroup(CreateGroupRequest(displayName: "Marketing"))
      let app = try await contoso.adminClient.tenants.createApplication(CreateApplicationRequest(displayName: "Campaign planner"))
      let sam = try await server.passcodeGuest(
        "sam@contractor.example", in: contoso, grants: InvitationGrants(groupIDs: [group.id], applicationIDs: [app.id]))
      let anonymous = server.client(nil)
      let begun = try await anonymous.invitations.beginPasscodeSignIn(
        BeginPasscodeSignInRequest(tenantID: contoso.id, email: "Sam@Contractor.example"))
      let now = server.clock.nowMillis()
      #expect(begun.signInSessionID.hasPrefix("sis_") && begun.passcodeSentTo == "s***@contractor.example")
      #expect(begun.passcodeAttemptsAllowed == 5 && begun.passcodeExpiresAt == now + 30 * 60_000)
      let passcode = try await server.queuedPasscode(invitationID: sam.guest.id, kind: .signInPasscode)
      #expect(passcode.count == 8)
      let signedIn = try await anonymous.invitations.completePasscodeSignIn(
        CompletePasscodeSignInRequest(signInSessionID: begun.signInSessionID, passcode: passcode))
      #expect(signedIn.guest.id == sam.guest.id && signedIn.tenantID == contoso.id && signedIn.tenantDisplayName == "Contoso")
      #expect(signedIn.groupNames == ["Marketing"] && signedIn.applicationNames == ["Campaign planner"])
      #expect(signedIn.credential.userID == sam.guest.id && signedIn.credential.expiresAt == now + 3_600_000)
      #expect(signedIn.secret.hasPrefix("gak_") && signedIn.secret != sam.secret)
      // The key acts as the guest.
      let asSam = server.client(signedIn.secret)
      #expect(try await asSam.guests.getGuest(GetGuestRequest(userID: "self")).id == sam.guest.id)
      let check = try await asSam.guests.checkAccess(CheckAccessRequest(principalUserID: "self", resourceID: app.id))
      #expect(check.allowed)
      // The same passcode twice: refused.
      await expectError(.failedPrecondition, reason: .passcodeAlreadyUsed) {
        try await anonymous.invitations.completePasscodeSignIn(
          CompletePasscodeSignInRequest(signInSessionID: begun.signInSessionID, passcode: passcode))
      }
      // Audited: the passcode sent, the key issued, the sign-in.
      let sent = try await server.audit(contoso, [.passcodeSent]).filter { $0.targetID == sam.guest.id }
      #expect(sent.count == 1 && sent[0].actorType == .anonymous)
      let signIns = try await server.audit(contoso, [.guestSignedIn])
      #expect(signIns.count == 1 && signIns[0].outcome == .success && signIns[0].targetID == sam.guest.id)
      // One hour later the key no longer works.
      server.clock.advance(seconds: 3599)
      _ = try await asSam.guests.getGuest(GetGuestRequest(userID: "self"))
      server.clock.advance(seconds: 1)
      await expectError(.unauthenticated, reason: .credentialExpired) { try await asSam.guests.getGuest(GetGuestRequest(userID: "self")) }
    }
  }

  /// The key ends with the guest's access when that comes first.
  @Test func keyEndsWithTheGuestsAccess() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let sam = try await server.passcodeGuest("sam@contractor.example", in: contoso)
      let ends = server.clock.nowMillis() + 600_000
      _ = try await contoso.adminClient.guests.updateGuest(UpdateGuestRequest(
        userID: sam.guest.id, accessExpiresAt: ends, updateMask: ["access_expires_at"]))
      let signedIn = try await server.passcodeSignIn("sam@contractor.example", in: contoso, userID: sam.guest.id)
      #expect(signedIn.credential.expiresAt == ends)
    }
  }

  /// Every address that may not sign in gets exactly the answers of an
  /// unknown one, and no email: a member, a guest of the attacker's own
  /// tenant, a home-tenant guest, a pending, blocked, expired or removed
  /// guest, an unknown tenant.
  @Test func ineligibleAddressesAnswerLikeUnknownOnes() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let proseware = try await server.makeTenant("Proseware", domain: "proseware.com")
      let member = try await contoso.makeUser("Bob", mail: "bob@contoso.com")
      let fabrikamGuest = try await server.passcodeGuest("eve@attacker.example", in: fabrikam)
      let giovanna = try await proseware.makeUser("Giovanna", mail: "gcarvalho@proseware.com")
      let homeGuest = try await server.redeemedGuest(of: giovanna, in: contoso)
      let pending = try await server.pendingGuest("pat@pending.example", in: contoso)
      let blocked = try await server.passcodeGuest("blocked@contractor.example", in: contoso)
      _ = try await contoso.adminClient.guests.blockSignIn(BlockSignInRequest(userID: blocked.guest.id))
      let expired = try await server.passcodeGuest("expired@contractor.example", in: contoso)
      _ = try await contoso.adminClient.guests.updateGuest(UpdateGuestRequest(
        userID: expired.guest.id, accessExpiresAt: server.clock.nowMillis() + 1000, updateMask: ["access_expires_at"]))
      let removed = try await server.passcodeGuest("removed@contractor.example", in: contoso)
      _ = try await contoso.adminClient.guests.removeGuest(RemoveGuestRequest(userID: removed.guest.id))
      let eligible = try await server.passcodeGuest("sam@contractor.example", in: contoso)
      server.clock.advance(seconds: 2)

      // The attacker signs in from its own client (Fabrikam's admin key is checked and not used).
      let attacker = fabrikam.adminClient
      let real = try await attacker.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: "sam@contractor.example"))
      let realError = try await wrongPasscodeError(attacker, real.signInSessionID)
      let cases: [(String, String, String, String?)] = [
        ("unknown address", "nobody@contractor.example", "n***@contractor.example", nil),
        ("member", member.user.mail, "b***@contoso.com", member.user.id),
        ("guest of another tenant", "eve@attacker.example", "e***@attacker.example", fabrikamGuest.guest.id),
        ("home-tenant guest", "gcarvalho@proseware.com", "g***@proseware.com", homeGuest.id),
        ("pending guest", "pat@pending.example", "p***@pending.example", pending.guest.id),
        ("blocked guest", "blocked@contractor.example", "b***@contractor.example", blocked.guest.id),
        ("expired guest", "expired@contractor.example", "e***@contractor.example", expired.guest.id),
        ("removed guest", "removed@contractor.example", "r***@contractor.example", removed.guest.id),
      ]
      for (label, mail, masked, userID) in cases {
        let begun = try await attacker.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: mail))
        #expect(begun.signInSessionID.hasPrefix("sis_") && begun.signInSessionID.count == real.signInSessionID.count, "\(label)")
        #expect(begun.passcodeExpiresAt == real.passcodeExpiresAt && begun.passcodeAttemptsAllowed == real.passcodeAttemptsAllowed, "\(label)")
        #expect(begun.passcodeSentTo == masked, "\(label)")
        let error = try await wrongPasscodeError(attacker, begun.signInSessionID)
        #expect(error.code == realError.code && error.reason == realError.reason && error.message == realError.message, "\(label)")
        #expect(error.info("attempts_remaining") == realError.info("attempts_remaining"), "\(label)")
        if let userID {
          let mailed = try await server.app.store.read { try $0.latestOutboxMessage(invitationID: userID, kind: .signInPasscode) }
          #expect(mailed == nil, "\(label): an email was queued")
        }
      }
      // An unknown tenant: the same again.
      let unknownTenant = try await attacker.invitations.beginPasscodeSignIn(
        BeginPasscodeSignInRequest(tenantID: "ten_unknown", email: "sam@contractor.example"))
      #expect(unknownTenant.passcodeAttemptsAllowed == 5 && unknownTenant.passcodeSentTo == "s***@contractor.example")
      let unknownError = try await wrongPasscodeError(attacker, unknownTenant.signInSessionID)
      #expect(unknownError.reason == realError.reason && unknownError.message == realError.message)
      // Sam's own guest got her one email; no key was issued to anyone.
      let samMail = try await server.app.store.read { try $0.latestOutboxMessage(invitationID: eligible.guest.id, kind: .signInPasscode) }
      #expect(samMail?.recipient == "sam@contractor.example")
      // Contoso's admins see the refused addresses in the audit log; the attacker's tenant sees nothing.
      let refused = try await server.audit(contoso, [.guestSignedIn]).filter { $0.outcome == .failure }
      #expect(refused.filter { $0.details.contains { $0.key == "reason" && $0.value == "NOT_ELIGIBLE" } }.count == cases.count)
      #expect(try await server.audit(fabrikam, [.guestSignedIn]).isEmpty)
      #expect(try await server.audit(fabrikam, [.passcodeSent]).allSatisfy { $0.targetType == .invitation }, "only eve's redemption")
    }
  }

  /// Wrong passcodes up to the limit spend the session; a passcode of another
  /// sign-in does not open this one; a sign-in started by someone else does
  /// not cut the guest's own; passcodes expire after 30 minutes; the sweeper
  /// deletes sessions after a day.
  @Test func wrongCodesOtherSessionsAndExpiry() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let sam = try await server.passcodeGuest("sam@contractor.example", in: contoso)
      let lee = try await server.passcodeGuest("lee@contractor.example", in: contoso)
      let anonymous = server.client(nil)
      let samSession = try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: sam.guest.mail))
      let samCode = try await server.queuedPasscode(invitationID: sam.guest.id, kind: .signInPasscode)
      let leeSession = try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: lee.guest.mail))
      let leeCode = try await server.queuedPasscode(invitationID: lee.guest.id, kind: .signInPasscode)
      // Lee's code in Sam's session is a wrong passcode (and a redemption session's id is unknown here).
      if leeCode != samCode {
        await expectError(.permissionDenied, reason: .passcodeInvalid) {
          try await anonymous.invitations.completePasscodeSignIn(CompletePasscodeSignInRequest(signInSessionID: samSession.signInSessionID, passcode: leeCode))
        }
      }
      await expectError(.notFound, reason: .sessionNotFound) {
        try await anonymous.invitations.completePasscodeSignIn(CompletePasscodeSignInRequest(signInSessionID: "rds_guess", passcode: samCode))
      }
      // Wrong codes until none are left, then even the right one is refused.
      let wrong = samCode == "00000000" ? "11111111" : "00000000"
      let remaining = try await (0..<4).asyncMap { _ in
        try await wrongPasscodeError(anonymous, samSession.signInSessionID, passcode: wrong).info("attempts_remaining")
      }
      #expect(remaining == ["3", "2", "1", "0"])
      await expectError(.failedPrecondition, reason: .passcodeAttemptsExceeded) {
        try await anonymous.invitations.completePasscodeSignIn(CompletePasscodeSignInRequest(signInSessionID: samSession.signInSessionID, passcode: samCode))
      }
      let failures = try await server.audit(contoso, [.guestSignedIn]).filter { $0.outcome == .failure && $0.targetID == sam.guest.id }
      #expect(failures.count == 5)
      // Someone else starting a sign-in for Lee's address does not cut Lee's own session;
      // both emails go out, each with its own passcode.
      let second = try await server.client(nil).invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: lee.guest.mail))
      let secondCode = try await server.queuedPasscode(invitationID: lee.guest.id, kind: .signInPasscode)
      let spool = server.app.settings.email.spoolDir ?? server.dataDir + "/outbox"
      try await eventually { SpooledMail.passcodes(kind: "sign_in_passcode", spoolDir: spool).count == 3 }
      let lees = try await anonymous.invitations.completePasscodeSignIn(
        CompletePasscodeSignInRequest(signInSessionID: leeSession.signInSessionID, passcode: leeCode))
      #expect(lees.guest.id == lee.guest.id)
      // 30 minutes later the other passcode expired.
      server.clock.advance(seconds: 30 * 60)
      await expectError(.failedPrecondition, reason: .passcodeExpired) {
        try await anonymous.invitations.completePasscodeSignIn(CompletePasscodeSignInRequest(signInSessionID: second.signInSessionID, passcode: secondCode))
      }
      // A day later the sweeper deleted the sessions: the id is unknown.
      server.clock.advance(seconds: 86_400)
      #expect(try await server.app.sweeper.runOnce().signInSessionsPurged == 3)
      await expectError(.notFound, reason: .sessionNotFound) {
        try await anonymous.invitations.completePasscodeSignIn(CompletePasscodeSignInRequest(signInSessionID: second.signInSessionID, passcode: secondCode))
      }
    }
  }

  /// A guest blocked or removed after the passcode went out does not get a key with it.
  @Test func guestBlockedMeanwhileGetsNoKey() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let sam = try await server.passcodeGuest("sam@contractor.example", in: contoso)
      let anonymous = server.client(nil)
      let begun = try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: sam.guest.mail))
      let code = try await server.queuedPasscode(invitationID: sam.guest.id, kind: .signInPasscode)
      _ = try await contoso.adminClient.guests.blockSignIn(BlockSignInRequest(userID: sam.guest.id))
      await expectError(.permissionDenied, reason: .signInNotAllowed) {
        try await anonymous.invitations.completePasscodeSignIn(CompletePasscodeSignInRequest(signInSessionID: begun.signInSessionID, passcode: code))
      }
      let keys = try await contoso.adminClient.tenants.listCredentials(ListCredentialsRequest(userID: sam.guest.id)).credentials
      #expect(keys.count == 1, "only the redemption's key")
    }
  }

  /// 5 passcodes per address per hour, the same for a real guest and an
  /// unknown address; 20 sign-ins per source address per 10 minutes; wrong
  /// codes count as failures of the source like the redemption's.
  @Test func rateLimits() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let sam = try await server.passcodeGuest("sam@contractor.example", in: contoso)
      let anonymous = server.client(nil)
      for mail in [sam.guest.mail, "nobody@contractor.example"] {
        for _ in 0..<5 { _ = try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: mail)) }
        await expectError(.resourceExhausted, reason: .redemptionRateLimited) {
          try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: mail))
        }
      }
      // 10 begins counted so far (a refused one counts nothing); 10 more, then the source is over its 20.
      for index in 0..<10 {
        _ = try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: "x\(index)@example.org"))
      }
      await expectError(.resourceExhausted, reason: .redemptionRateLimited) {
        try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: "y@example.org"))
      }
      // Unknown sessions count as failures; after 20, they are rate limited.
      let outcomes = await outcomeCounts(25) { index in
        _ = try await anonymous.invitations.completePasscodeSignIn(CompletePasscodeSignInRequest(signInSessionID: "sis_guess\(index)", passcode: "12345678"))
      }
      #expect(outcomes["SESSION_NOT_FOUND"] == 20 && outcomes["REDEMPTION_RATE_LIMITED"] == 5, "\(outcomes)")
      // Bad input.
      await expectError(.invalidArgument, reason: .invalidField) {
        try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: contoso.id, email: "not-an-address"))
      }
      await expectError(.invalidArgument, reason: .invalidField) {
        try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: "", email: sam.guest.mail))
      }
      // The next window: Sam signs in again.
      server.clock.advance(seconds: 3600)
      let signedIn = try await server.passcodeSignIn(sam.guest.mail, in: contoso, userID: sam.guest.id)
      #expect(signedIn.guest.id == sam.guest.id)
    }
  }
}

extension TestServer {
  /// Signs a passcode guest in by RPC; returns the response with its short-lived key.
  func passcodeSignIn(_ mail: String, in tenant: TestTenant, userID: String) async throws -> CompletePasscodeSignInResponse {
    let anonymous = client(nil)
    let begun = try await anonymous.invitations.beginPasscodeSignIn(BeginPasscodeSignInRequest(tenantID: tenant.id, email: mail))
    let passcode = try await queuedPasscode(invitationID: userID, kind: .signInPasscode)
    return try await anonymous.invitations.completePasscodeSignIn(
      CompletePasscodeSignInRequest(signInSessionID: begun.signInSessionID, passcode: passcode))
  }
}

/// The error of a wrong passcode in `session`.
private func wrongPasscodeError(_ client: GuestAccessClient, _ session: String, passcode: String = "99999999") async throws -> RPCError {
  do {
    _ = try await client.invitations.completePasscodeSignIn(CompletePasscodeSignInRequest(signInSessionID: session, passcode: passcode))
  } catch let error as RPCError {
    return error
  }
  throw RPCError(code: .internalError, message: "a wrong passcode was accepted")
}

extension Sequence {
  /// `transform` on each element in order, awaiting each.
  fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
    var results: [T] = []
    for element in self { results.append(try await transform(element)) }
    return results
  }
}
