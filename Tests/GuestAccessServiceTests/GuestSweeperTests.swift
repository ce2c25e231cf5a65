import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessStorage
import GuestAccessTestSupport
import Testing

@Suite("Sweeper: expiries, scheduled removals, purges, batches")
struct GuestSweeperTests {
  @Test func expiresInvitationsAndGuests() async throws {
    try await withTestServer { server in
      let s = try await server.guestScenario(accessExpiresAt: server.clock.nowMillis() + 3_600_000)
      let created = try await s.admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "lee@fabrikam.example", expiresInSeconds: 1800))
      #expect(try await server.app.sweeper.runOnce() == Sweeper.Report())
      _ = try await s.asGuest.tenants.getTenant(GetTenantRequest())
      server.clock.advance(seconds: 3600)
      // Access ends at the instant, before any sweep.
      await expectError(.permissionDenied) { try await s.asGuest.tenants.getTenant(GetTenantRequest()) }
      #expect(try await s.admin.guests.getGuest(GetGuestRequest(userID: s.guest.id)).accountEnabled)
      // Effects, not report counts, are checked: the app's background sweeper may sweep first on a slow machine.
      try await server.app.sweeper.runOnce()
      let invitation = try await s.admin.invitations.getInvitation(GetInvitationRequest(invitationID: created.invitation.id))
      #expect(invitation.status == .expired)
      // The ticket still answers "expired", as it did before the sweep.
      await expectError(.failedPrecondition, reason: .invitationExpired) {
        try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: created.invitation.ticket))
      }
      #expect(try await !s.admin.guests.getGuest(GetGuestRequest(userID: s.guest.id)).accountEnabled)
      // Nothing is done twice.
      try await server.app.sweeper.runOnce()
      let events = try await server.audit(s.contoso, [.invitationExpired, .guestAccessExpired])
      #expect(events.map(\.action) == [.invitationExpired, .guestAccessExpired])
      #expect(events.allSatisfy { $0.actorType == .system && $0.actorID == "system" && $0.outcome == .success })
      #expect(events.map(\.targetID) == [created.invitation.id, s.guest.id])
      // Resending revives an expired invitation; an admin may extend the expiry and unblock.
      let resent = try await s.admin.invitations.resendInvitation(ResendInvitationRequest(invitationID: created.invitation.id))
      #expect(resent.status == .pendingAcceptance)
      _ = try await s.admin.guests.updateGuest(UpdateGuestRequest(userID: s.guest.id, accessExpiresAt: 0, updateMask: ["access_expires_at"]))
      _ = try await s.admin.guests.unblockSignIn(UnblockSignInRequest(userID: s.guest.id))
      _ = try await s.asGuest.tenants.getTenant(GetTenantRequest())
    }
  }

  @Test func idempotencyKeysAreKeptTwentyFourHours() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let tenants = contoso.adminClient.tenants
      let first = try await tenants.createGroup(CreateGroupRequest(idempotencyKey: "k1", displayName: "Sales"))
      _ = try await tenants.createGroup(CreateGroupRequest(idempotencyKey: "k2", displayName: "Support"))
      #expect(try await tenants.createGroup(CreateGroupRequest(idempotencyKey: "k1", displayName: "Sales")).id == first.id)
      await expectError(.failedPrecondition, reason: .idempotencyKeyReused) {
        try await tenants.createGroup(CreateGroupRequest(idempotencyKey: "k1", displayName: "Marketing"))
      }
      // Nothing is purged before its 24 hours.
      #expect(try await server.app.sweeper.runOnce().idempotencyKeysPurged == 0)
      server.clock.advance(seconds: 24 * 3600 + 1)
      // After 24 hours the key is free: a new request under it creates anew (and refreshes the key).
      let again = try await tenants.createGroup(CreateGroupRequest(idempotencyKey: "k1", displayName: "Marketing"))
      #expect(again.id != first.id && again.displayName == "Marketing")
      #expect(try await tenants.createGroup(CreateGroupRequest(idempotencyKey: "k1", displayName: "Marketing")).id == again.id)
      // The sweeper deletes the expired k2 only.
      #expect(try await server.app.sweeper.runOnce().idempotencyKeysPurged == 1)
      #expect(try await server.app.sweeper.runOnce().idempotencyKeysPurged == 0)
    }
  }

  @Test func boundedBatchesAndTheBackgroundLoop() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      for index in 0..<5 {
        _ = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "p\(index)@fabrikam.example"))
      }
      // Sweeping at a time of its own (the server's clock stays put, so the app's own sweeper has nothing to do).
      let later = server.clock.nowMillis() + 8 * 86_400_000
      let small = Sweeper(environment: server.app.environment, batchSize: 2, maxPerRun: 3)
      #expect(try await small.sweep(now: later).invitationsExpired == 3)
      #expect(try await small.sweep(now: later).invitationsExpired == 2)
      #expect(try await small.sweep(now: later) == Sweeper.Report())
      // The background loop sweeps on its own, here by a clock of its own a day ahead.
      _ = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "late@fabrikam.example", expiresInSeconds: 60))
      let ahead = TestClock()
      ahead.advance(seconds: (server.clock.nowMillis() - ahead.nowMillis()) / 1000 + 86_400)
      let loop = Sweeper(environment: ServiceEnvironment(store: server.app.store, clock: ahead), interval: .milliseconds(20))
      let running = Task { await loop.run() }
      defer { running.cancel() }
      var expired = false
      let deadline = ContinuousClock.now + .seconds(2).scaled
      while !expired && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(10))
        expired = try await server.audit(contoso, [.invitationExpired]).count == 6
      }
      #expect(expired)
    }
  }

  @Test func sweepIntervalSetting() throws {
    func settings(_ environment: [String: String]) throws -> ServerSettings {
      try ServerSettings(listen: nil, dataDir: nil, publicBaseURL: nil, logLevel: nil, drainTimeout: nil, maxConnections: nil, environment: environment)
    }
    #expect(try settings([:]).sweepInterval == 60)
    #expect(try settings(["GUESTD_SWEEP_INTERVAL": "0.5"]).sweepInterval == 0.5)
    #expect(try settings(["GUESTD_SWEEP_INTERVAL": "0"]).sweepInterval == 0)
    #expect(throws: SettingsError.self) { try settings(["GUESTD_SWEEP_INTERVAL": "soon"]) }
    // The flag wins over the environment, and is validated the same way.
    let flagged = try ServerSettings(
      listen: nil, dataDir: nil, publicBaseURL: nil, logLevel: nil, drainTimeout: nil, maxConnections: nil, sweepInterval: 5,
      environment: ["GUESTD_SWEEP_INTERVAL": "0.5"])
    #expect(flagged.sweepInterval == 5)
    for bad in [-1, 1e300, .infinity, .nan] {
      #expect(throws: SettingsError.self) {
        try ServerSettings(listen: nil, dataDir: nil, publicBaseURL: nil, logLevel: nil, drainTimeout: nil, maxConnections: nil, sweepInterval: bad, environment: [:])
      }
    }
    // Busy polling: default 50 µs, 0 turns it off, out-of-range values are refused.
    #expect(try settings([:]).busyPollMicros == 50)
    #expect(try settings(["GUESTD_BUSY_POLL_US": "0"]).busyPollMicros == 0)
    #expect(throws: SettingsError.self) { try settings(["GUESTD_BUSY_POLL_US": "-3"]) }
    #expect(throws: SettingsError.self) { try settings(["GUESTD_BUSY_POLL_US": "fast"]) }
    #expect(throws: SettingsError.self) { try settings(["GUESTD_SWEEP_INTERVAL": "-1"]) }
  }

  @Test func schemaVersion3BackfillsExistingGuests() async throws {
    let path = NSTemporaryDirectory() + "guestaccess-v2-" + UUID().uuidString + ".sqlite"
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    // A version-2 database holding a blocked guest with a sponsor and a due removal.
    let old = try SQLiteDatabase(path: path, migrations: Array(Schema.migrations.prefix(2)))
    let guest = User(
      id: "usr_g", tenantID: "ten_a", userType: .guest, displayName: "G", mail: "g@x.example", accountEnabled: false, createdAt: 5,
      externalUserState: .accepted, sponsors: ["usr_s"], accessExpiresAt: 10, removalScheduledAt: 20)
    let tenant = Tenant(id: "ten_a", displayName: "A", state: .active)
    try await old.write { connection in
      try connection.run("INSERT INTO tenants (id, state, data) VALUES ('ten_a', 1, ?1)", [.blob(tenant.serializedBytes())])
      try connection.run(
        """
        INSERT INTO users (id, tenant_id, mail, domain, user_type, roles, external_state, home_tenant_id, home_user_id,
          last_sign_in_at, access_expires_at, deleted_at, data) VALUES ('usr_g', 'ten_a', 'g@x.example', 'x.example', 2, ',', 2, '', '', 0, 10, 0, ?1)
        """, [.blob(guest.serializedBytes())])
    }
    old.close()
    let store = try SQLiteDirectoryStore(path: path)
    defer { store.close() }
    let due = try await store.read { try $0.guestsDueForRemoval(by: 20, limit: 10).map(\.id) }
    #expect(due == ["usr_g"])
    // Blocked already, so not an expiry to sweep; the sponsor and inactivity filters see it.
    #expect(try await store.read { try $0.expiredGuests(by: 100, limit: 10) }.isEmpty)
    func ids(_ change: (inout UserFilter) -> Void) async throws -> [String] {
      var filter = UserFilter()
      change(&filter)
      let final = filter
      return try await store.read { try $0.users(tenantID: "ten_a", filter: final, after: "", limit: 10).map(\.id) }
    }
    #expect(try await ids { $0.sponsorID = "usr_s" } == ["usr_g"])
    #expect(try await ids { $0.sponsorID = "usr_other" }.isEmpty)
    #expect(try await ids { $0.inactiveSince = 6 } == ["usr_g"])
    #expect(try await ids { $0.inactiveSince = 5 }.isEmpty)
  }
}
