import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessStorage
import GuestAccessTestSupport
import Testing

/// Two guestd on one PostgreSQL database, as behind a load balancer: what one
/// writes the other reads, revocations take effect on the other's next call,
/// audit watchers see every instance's events, outbox messages go out once,
/// the sweeper runs on one at a time, and limits and idempotency keys hold
/// across both. Runs whenever a test cluster is available (always under Scripts/test).
@Suite("Several guestd on one PostgreSQL", .enabled(if: TestDatabase.runsMultiInstanceTests, "needs GUESTACCESS_TEST_POSTGRES_URL (run Scripts/test)"))
struct MultiInstanceTests {
  /// Starts `b` then `a` on one fresh database (sharing the hash key and the clock).
  private func withTwoServers(
    configure: @escaping (inout ServerSettings) -> Void = { _ in }, _ body: (_ a: TestServer, _ b: TestServer) async throws -> Void
  ) async throws {
    let name = "ga_multi_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let uri = try TestDatabase.database(named: name)
    let clock = TestClock()
    try await withTestServer(clock: clock, configure: { configure(&$0); $0.database = .postgres(uri: uri) }) { b in
      try await withTestServer(clock: clock, configure: {
        configure(&$0)
        $0.database = .postgres(uri: uri)
        $0.hashKeyFile = b.dataDir + "/hash.key"
      }) { a in
        try await body(a, b)
      }
    }
  }

  @Test func anObjectCreatedOnOneIsReadOnTheOther() async throws {
    try await withTwoServers { a, b in
      let contoso = try await a.makeTenant("Contoso", domain: "contoso.com")
      let group = try await contoso.adminClient.tenants.createGroup(CreateGroupRequest(displayName: "Engineering"))
      let onB = b.client(contoso.secret)
      let listed = try await onB.tenants.listGroups(ListGroupsRequest())
      #expect(listed.groups.map(\.id) == [group.id])
      let tenant = try await b.operatorClient.tenants.getTenant(GetTenantRequest(tenantID: contoso.id))
      #expect(tenant.displayName == "Contoso")
    }
  }

  @Test func aRevocationOrBlockOnOneIsRefusedOnTheOthersNextCall() async throws {
    try await withTwoServers { a, b in
      let contoso = try await a.makeTenant("Contoso", domain: "contoso.com")
      let adminA = contoso.adminClient
      let user = try await adminA.tenants.createUser(CreateUserRequest(displayName: "Ana", mail: "ana@contoso.com"))
      for round in 0..<5 {
        let issued = try await adminA.tenants.issueCredential(IssueCredentialRequest(userID: user.id, displayName: "key \(round)"))
        let onB = b.client(issued.secret)
        // Cached on B by a successful call.
        _ = try await onB.tenants.listGroups(ListGroupsRequest())
        _ = try await onB.tenants.listGroups(ListGroupsRequest())
        _ = try await adminA.tenants.revokeCredential(RevokeCredentialRequest(credentialID: issued.credential.id))
        await expectError(.unauthenticated) { try await onB.tenants.listGroups(ListGroupsRequest()) }
      }
      // Blocking the user on A: its other credential stops working on B at once.
      let issued = try await adminA.tenants.issueCredential(IssueCredentialRequest(userID: user.id, displayName: "kept"))
      let onB = b.client(issued.secret)
      _ = try await onB.tenants.listGroups(ListGroupsRequest())
      _ = try await adminA.tenants.updateUser(UpdateUserRequest(userID: user.id, accountEnabled: false, updateMask: ["account_enabled"]))
      do {
        _ = try await onB.tenants.listGroups(ListGroupsRequest())
        Issue.record("a disabled user's credential still worked on the other guestd")
      } catch let error as RPCError {
        #expect(error.code == .unauthenticated || error.code == .permissionDenied, "\(error)")
      }
    }
  }

  @Test func aWatcherOnOneSeesTheOthersEventsInOrderWithoutGap() async throws {
    try await withTwoServers { a, b in
      let contoso = try await a.makeTenant("Contoso", domain: "contoso.com")
      let last = try #require(try await contoso.adminClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1, newestFirst: true)).events.first)
      let count = 120
      let watcher = Task {
        try await b.client(contoso.secret).tenants.watchAuditEvents(WatchAuditEventsRequest(afterSequence: last.sequence)) { stream in
          var received: [AuditEvent] = []
          for try await event in stream {
            received.append(event)
            if received.count == count { break }
          }
          return received
        }
      }
      // Writes on both guestd at once, most of them on A.
      try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<count {
          let server = index % 3 == 0 ? b : a
          group.addTask { _ = try await server.client(contoso.secret).tenants.createGroup(CreateGroupRequest(displayName: "G\(index)")) }
        }
        try await group.waitForAll()
      }
      let timer = Task {
        try await Task.sleep(for: .seconds(20).scaled)
        watcher.cancel()
      }
      defer { timer.cancel() }
      let received = try await watcher.value
      let sequences = received.map(\.sequence)
      #expect(sequences == Array((last.sequence + 1)...(last.sequence + Int64(count))))
      #expect(Set(received.map(\.targetID)).count == count)
    }
  }

  @Test func outboxMessagesWrittenOnBothAreDeliveredExactlyOnce() async throws {
    try await withTwoServers { a, b in
      let contoso = try await a.makeTenant("Contoso", domain: "contoso.com")
      _ = try await contoso.adminClient.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(invitationRateLimit: 5000, invitationRateWindowSeconds: 3600), updateMask: ["invitation_rate_limit", "invitation_rate_window_seconds"]))
      let total = 1000
      try await withThrowingTaskGroup(of: Int32.self) { group in
        for part in 0..<4 {
          let server = part % 2 == 0 ? a : b
          group.addTask {
            let response = try await server.client(contoso.secret).invitations.createInvitations(CreateInvitationsRequest(invitations: (0..<(total / 4)).map {
              CreateInvitationRequest(invitedEmail: "guest\(part)-\($0)@partner.example", sendInvitationMessage: true)
            }))
            return response.succeededCount
          }
        }
        var succeeded: Int32 = 0
        for try await count in group { succeeded += count }
        #expect(succeeded == Int32(total))
      }
      let spools = [a, b].map { $0.app.settings.email.spoolDir ?? $0.dataDir + "/outbox" }
      let deadline = ContinuousClock.now + .seconds(60).scaled
      var files: [String] = []
      while ContinuousClock.now < deadline {
        files = spools.flatMap { SpooledMail.files(in: $0) }
        let depth = try await a.app.store.read { try $0.outboxDepth() }
        if files.count >= total && depth == 0 { break }
        try await Task.sleep(for: .milliseconds(50))
      }
      // Each file is named after its outbox message: no message was sent twice.
      let names = files.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
      #expect(names.count == total)
      #expect(Set(names).count == total)
      #expect(spools.allSatisfy { !SpooledMail.files(in: $0).isEmpty }, "both guestd delivered a share")
    }
  }

  @Test func theSweeperRunsOnOneAndMovesWhenItStops() async throws {
    let name = "ga_multi_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let uri = try TestDatabase.database(named: name)
    try await withTestServer(configure: { $0.database = .postgres(uri: uri); $0.sweepInterval = 0 }) { b in
      try await withTestServer(configure: { $0.database = .postgres(uri: uri); $0.sweepInterval = 0; $0.hashKeyFile = b.dataDir + "/hash.key" }) { a in
        #expect(await a.app.store.holdsLease(.sweeper))
        #expect(await a.app.store.holdsLease(.sweeper))
        #expect(await !b.app.store.holdsLease(.sweeper))
      }
      // A stopped (its sessions closed, as when a process dies): B takes over.
      let deadline = ContinuousClock.now + .seconds(5).scaled
      var taken = false
      while !taken && ContinuousClock.now < deadline {
        taken = await b.app.store.holdsLease(.sweeper)
        if !taken { try await Task.sleep(for: .milliseconds(20)) }
      }
      #expect(taken)
    }
  }

  @Test func theInvitationRateLimitHoldsAcrossBoth() async throws {
    try await withTwoServers { a, b in
      let contoso = try await a.makeTenant("Contoso", domain: "contoso.com")
      _ = try await contoso.adminClient.tenants.updateSettings(UpdateSettingsRequest(
        settings: TenantSettings(invitationRateLimit: 10, invitationRateWindowSeconds: 3600), updateMask: ["invitation_rate_limit", "invitation_rate_window_seconds"]))
      let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
        for index in 0..<16 {
          let server = index % 2 == 0 ? a : b
          group.addTask {
            do {
              _ = try await server.client(contoso.secret).invitations.createInvitation(CreateInvitationRequest(invitedEmail: "g\(index)@partner.example"))
              return true
            } catch let error as RPCError where error.reason == .inviteRateLimited {
              return false
            }
          }
        }
        var all: [Bool] = []
        for try await outcome in group { all.append(outcome) }
        return all
      }
      #expect(outcomes.filter { $0 }.count == 10)
    }
  }

  @Test func anIdempotencyKeyHoldsAcrossBoth() async throws {
    try await withTwoServers { a, b in
      let contoso = try await a.makeTenant("Contoso", domain: "contoso.com")
      for round in 0..<5 {
        var request = CreateInvitationRequest(invitedEmail: "same\(round)@partner.example")
        request.idempotencyKey = "key-\(round)"
        let sent = request
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
          for server in [a, b, a, b] {
            group.addTask { try await server.client(contoso.secret).invitations.createInvitation(sent).invitation.id }
          }
          var all: [String] = []
          for try await id in group { all.append(id) }
          return all
        }
        #expect(Set(ids).count == 1, "\(ids)")
        var other = request
        other.invitedDisplayName = "Someone else"
        let changed = other
        await expectError(.failedPrecondition, reason: .idempotencyKeyReused) {
          try await b.client(contoso.secret).invitations.createInvitation(changed)
        }
      }
    }
  }

  /// The guest and invitation rows go to the database with the COMMIT,
  /// without a round trip each: invitations of one address sent at once to
  /// both make one guest and one invitation (the loser of the unique index
  /// runs again and finds them), and every answer names them.
  @Test func oneAddressInvitedAtOnceOnBothMakesOneGuest() async throws {
    try await withTwoServers { a, b in
      let contoso = try await a.makeTenant("Contoso", domain: "contoso.com")
      for round in 0..<5 {
        let request = CreateInvitationRequest(invitedEmail: "race\(round)@partner.example")
        let answers = try await withThrowingTaskGroup(of: CreateInvitationResponse.self) { group in
          for server in [a, b, a, b] {
            group.addTask { try await server.client(contoso.secret).invitations.createInvitation(request) }
          }
          var all: [CreateInvitationResponse] = []
          for try await answer in group { all.append(answer) }
          return all
        }
        #expect(Set(answers.map(\.invitation.id)).count == 1)
        #expect(Set(answers.map(\.invitation.guestUserID)).count == 1)
        #expect(answers.filter { !$0.alreadyPending }.count == 1)
        let guests = try await b.client(contoso.secret).tenants.listUsers(ListUsersRequest(mail: request.invitedEmail))
        #expect(guests.users.map(\.id) == [answers[0].invitation.guestUserID])
      }
    }
  }
}
