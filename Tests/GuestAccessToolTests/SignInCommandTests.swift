import Foundation
import GuestAccessClient
import GuestAccessTestSupport
import Testing

/// `guestctl redeem` then `guestctl signin start|complete` for an email
/// passcode guest, against a real server, passcodes read from the spooled emails.
@Suite("guestctl signin")
struct SignInCommandTests {
  @Test func passcodeGuestSignsInAgain() async throws {
    try await withToolServer { server in
      let spool = server.workDir + "/guestaccess-data/outbox"
      let created = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--domain", "contoso.com", "--admin-mail", "admin@contoso.com",
        key: server.operatorKey)
      let admin = created.adminSecret
      let invited = try await server.guestctl(CreateInvitationResponse.self, "invite", "sam@contractor.example", key: admin)
      let started = try await server.guestctl(RedeemInvitationResponse.self, "redeem", invited.invitation.redeemURL, key: nil)
      #expect(started.result == .passcodeSent)
      let code = try await spooledPasscode(kind: "passcode", in: spool)
      let redeemed = try await server.guestctl(
        CompleteRedemptionResponse.self, "redeem", "complete", "--session", started.redemptionSessionID, "--passcode", code, key: nil)

      let begun = try await server.guestctl(
        BeginPasscodeSignInResponse.self, "signin", "start", "--tenant", created.tenant.id, "--email", "sam@contractor.example", key: nil)
      #expect(begun.passcodeSentTo == "s***@contractor.example" && begun.signInSessionID.hasPrefix("sis_"))
      let wrong = try await server.guestctl("signin", "complete", "--session", begun.signInSessionID, "--passcode", "1234567", key: nil)
      #expect(wrong.status == 2 + 7 && wrong.stderr.contains("PASSCODE_INVALID"), "\(wrong)")
      let signInCode = try await spooledPasscode(kind: "sign_in_passcode", in: spool)
      let signedIn = try await server.guestctl(
        CompletePasscodeSignInResponse.self, "signin", "complete", "--session", begun.signInSessionID, "--passcode", signInCode, key: nil)
      #expect(signedIn.guest.id == redeemed.guest.id && signedIn.credential.expiresAt - signedIn.credential.createdAt == 3_600_000)
      // The short-lived key works like any key of the guest.
      let me = try await server.guestctl(User.self, "guest", "get", "self", key: signedIn.secret)
      #expect(me.id == redeemed.guest.id)
    }
  }
}

/// The one passcode of `kind` spooled so far, waiting for it to arrive.
private func spooledPasscode(kind: String, in spool: String) async throws -> String {
  let deadline = ContinuousClock.now + .seconds(10).scaled
  while ContinuousClock.now < deadline {
    if let code = SpooledMail.passcodes(kind: kind, spoolDir: spool).first { return code }
    try await Task.sleep(for: .milliseconds(20))
  }
  throw RPCError(code: .deadlineExceeded, message: "no \(kind) email was spooled")
}
