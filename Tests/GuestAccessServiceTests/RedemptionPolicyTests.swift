import GuestAccessProto
import GuestAccessServer
import GuestAccessStorage
import Testing

/// The redemption rules on their own: order, invitation state, passcode
/// quota, life and attempts, with no store and no clock.
@Suite("Redemption policy")
struct RedemptionPolicyTests {
  let policy = RedemptionPolicy()
  let now: Int64 = 1_800_000_000_000

  @Test func orderPrefersAHomeTenantThenThePasscode() {
    let otherOwner = RedemptionPolicy.SignInFacts(invitingTenantID: "t1", domainOwnerTenantID: "t2", emailOtpMode: .enabled)
    #expect(policy.signIn(otherOwner) == .homeTenant)
    #expect(policy.passcodeRefusal(otherOwner, invitedDomain: "proseware.com")?.reason == .homeTenantRequired)
    let unmanaged = RedemptionPolicy.SignInFacts(invitingTenantID: "t1", domainOwnerTenantID: nil, emailOtpMode: .enabled)
    #expect(policy.signIn(unmanaged) == .emailPasscode)
    #expect(policy.passcodeRefusal(unmanaged, invitedDomain: "x.example") == nil)
    // The inviting tenant's own domain is no home tenant elsewhere.
    let ownDomain = RedemptionPolicy.SignInFacts(invitingTenantID: "t1", domainOwnerTenantID: "t1", emailOtpMode: .enabled)
    #expect(policy.signIn(ownDomain) == .emailPasscode)
    let disabled = RedemptionPolicy.SignInFacts(invitingTenantID: "t1", domainOwnerTenantID: nil, emailOtpMode: .disabled)
    #expect(policy.signIn(disabled) == .unavailable)
    #expect(policy.passcodeRefusal(disabled, invitedDomain: "x.example")?.reason == .emailOTPDisabled)
  }

  @Test func theTenantsOrderPicksTheFirstStepThatApplies() {
    let proseware = IdentityProvider(id: "idp_p", tenantID: "t1", displayName: "Proseware", use: .partner, domains: ["proseware.com"])
    let fabrikamSSO = IdentityProvider(id: "idp_f", tenantID: "t2", displayName: "Fabrikam SSO", use: .members)
    // The default order: a home tenant first, then the partner provider, then the passcode.
    let partner = RedemptionPolicy.SignInFacts(invitingTenantID: "t1", domainOwnerTenantID: nil, emailOtpMode: .enabled, partnerProvider: proseware)
    #expect(policy.signIn(partner) == .partnerProvider)
    #expect(policy.provider(partner)?.id == "idp_p")
    #expect(policy.passcodeRefusal(partner, invitedDomain: "proseware.com")?.reason == .providerSignInRequired)
    #expect(policy.homeCredentialRefusal(partner)?.reason == .providerSignInRequired)
    var home = RedemptionPolicy.SignInFacts(
      invitingTenantID: "t1", domainOwnerTenantID: "t2", emailOtpMode: .enabled, partnerProvider: proseware, homeProvider: fabrikamSSO)
    #expect(policy.signIn(home) == .homeTenant)
    #expect(policy.provider(home)?.id == "idp_f")
    #expect(policy.homeCredentialRefusal(home) == nil)
    // The tenant puts its partner provider first, or leaves steps out.
    home.order = [.partnerProvider, .homeTenant]
    #expect(policy.signIn(home) == .partnerProvider)
    home.order = [.emailPasscode]
    #expect(policy.signIn(home) == .emailPasscode)
    #expect(policy.provider(home) == nil)
    #expect(policy.homeCredentialRefusal(home)?.reason == .redemptionStepNotOffered)
    var noPasscode = partner
    noPasscode.order = [.homeTenant, .emailPasscode]
    #expect(policy.signIn(noPasscode) == .emailPasscode)
    noPasscode.emailOtpMode = .disabled
    #expect(policy.signIn(noPasscode) == .unavailable)
    #expect(policy.passcodeRefusal(noPasscode, invitedDomain: "proseware.com")?.reason == .emailOTPDisabled)
  }

  @Test func invitationStates() {
    #expect(policy.redeemableRefusal(.pendingAcceptance, expiresAt: now + 1, now: now) == nil)
    #expect(policy.redeemableRefusal(.pendingAcceptance, expiresAt: now, now: now)?.reason == .invitationExpired)
    #expect(policy.effectiveStatus(.pendingAcceptance, expiresAt: now, now: now) == .expired)
    #expect(policy.redeemableRefusal(.revoked, expiresAt: now + 1, now: now)?.reason == .invitationRevoked)
    #expect(policy.redeemableRefusal(.accepted, expiresAt: now + 1, now: now)?.reason == .invitationAlreadyRedeemed)
    #expect(policy.redeemableRefusal(.expired, expiresAt: now + 1, now: now)?.reason == .invitationExpired)
  }

  @Test func passcodeQuotaPerWindow() {
    #expect(policy.passcodeQuotaRefusal(sent: 5, windowStart: now, now: now) == nil)
    let refusal = policy.passcodeQuotaRefusal(sent: 6, windowStart: now - 1000, now: now)
    #expect(refusal?.code == .resourceExhausted)
    #expect(refusal?.reason == .redemptionRateLimited)
    // Both sides `UInt64?`: with an integer literal on the right, the expansion of `#expect` in Swift 6.3
    // reads 9 bytes (an optional) from the literal's 8-byte slot (an AddressSanitizer stack-buffer-overflow).
    let expectedDelay: UInt64? = 3_600_000 - 1000
    #expect(refusal?.retryDelayMillis == expectedDelay)
  }

  @Test func newSessionLivesThirtyMinutesWithFiveAttempts() {
    let session = policy.newSession(id: "rds_1", invitationID: "inv_1", passcodeHash: [1], now: now)
    #expect(session.expiresAt == now + 30 * 60 * 1000)
    #expect(session.maxAttempts == 5)
    #expect(session.state == .open && session.attempts == 0)
  }

  @Test func wrongPasscodesCountDownAndCloseTheSession() {
    var session = policy.newSession(id: "rds_1", invitationID: "inv_1", passcodeHash: [1], now: now)
    for remaining in (0..<5).reversed() {
      let (outcome, changed) = policy.attempt(&session, passcodeMatches: false, now: now)
      #expect(outcome == .wrong(remaining: remaining))
      #expect(changed)
      #expect(outcome.refusal?.reason == .passcodeInvalid)
    }
    #expect(session.state == .closed)
    // Closed: even the right passcode is refused now, and nothing changes.
    let (outcome, changed) = policy.attempt(&session, passcodeMatches: true, now: now)
    #expect(outcome == .spent && !changed)
    #expect(outcome.refusal?.reason == .passcodeAttemptsExceeded)
  }

  @Test func rightPasscodeCompletesOnceAndExpiryCloses() {
    var session = policy.newSession(id: "rds_1", invitationID: "inv_1", passcodeHash: [1], now: now)
    #expect(policy.attempt(&session, passcodeMatches: true, now: now).outcome == .accepted)
    #expect(session.state == .completed)
    let again = policy.attempt(&session, passcodeMatches: true, now: now)
    #expect(again.outcome == .alreadyCompleted && !again.changed)
    #expect(again.outcome.refusal?.reason == .invitationAlreadyRedeemed)

    var late = policy.newSession(id: "rds_2", invitationID: "inv_1", passcodeHash: [1], now: now)
    let expired = policy.attempt(&late, passcodeMatches: true, now: late.expiresAt)
    #expect(expired.outcome == .expired && expired.changed)
    #expect(late.state == .closed)
    #expect(expired.outcome.refusal?.reason == .passcodeExpired)
  }

  @Test func limitsAreTheDocumentedOnes() {
    let limits = RedemptionPolicy.Limits()
    #expect(limits.failuresPerSource == 20)
    #expect(limits.failureWindow == .seconds(600))
    #expect(limits.passcodesPerTicket == 5)
    #expect(limits.passcodeWindow == .seconds(3600))
  }
}
