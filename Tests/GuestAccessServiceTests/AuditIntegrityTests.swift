import GuestAccessClient
import GuestAccessServer
import Testing

/// The audit log is complete and findable: a slow watcher loses nothing,
/// the operator's events can be listed, every revocation and the bootstrap
/// key are recorded, and each event names the call's request id.
@Suite("Audit integrity")
struct AuditIntegrityTests {
  /// 15,000 events commit while a watcher is not reading (more than the
  /// 10,000 an in-memory buffer once held): it receives every one, in order.
  @Test func aSlowWatcherReceivesEveryEvent() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let burst = 15_000
      let started = AsyncStream<Void>.makeStream()
      let before = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1, newestFirst: true)).events
      let after = try #require(before.first).sequence
      let watcher = Task {
        try await admin.tenants.watchAuditEvents(WatchAuditEventsRequest(afterSequence: after)) { stream in
          var received: [AuditEvent] = []
          for try await event in stream {
            received.append(event)
            if received.count == 1 {
              started.continuation.yield()
              // Not reading while the burst commits.
              try await Task.sleep(for: .milliseconds(300))
            }
            if received.count == burst + 1 { break }
          }
          return received
        }
      }
      // The first event shows the stream is live; then the burst, in one transaction, published at once.
      _ = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Start"))
      for await _ in started.stream { break }
      let tenantID = contoso.id
      let events = try await server.app.store.write { writer in
        try (0..<burst).map { index in
          var event = AuditEvent()
          event.tenantID = tenantID
          event.action = .groupCreated
          event.actorType = .system
          event.actorID = "system"
          event.targetID = "grp_burst_\(index)"
          return try writer.appendAudit(event)
        }
      }
      server.app.environment.auditHub.publish(events)
      let received = try await watcher.value
      #expect(received.count == burst + 1)
      let burstReceived = Array(received.dropFirst())
      // Numbered in the order appended, one after the other (PostgreSQL numbers them at commit).
      #expect(burstReceived.map(\.targetID) == events.map(\.targetID))
      let first = try #require(burstReceived.first?.sequence)
      #expect(burstReceived.map(\.sequence) == Array(first..<first + Int64(burst)))
      #expect(burstReceived.last?.targetID == "grp_burst_\(burst - 1)")
    }
  }

  /// The operator lists and watches with an empty tenant_id: every tenant's
  /// events and its own (operator keys, the bootstrap key) together.
  @Test func theOperatorSeesEveryTenantWithAnEmptyTenantID() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let fabrikam = try await server.makeTenant("Fabrikam", domain: "fabrikam.com")
      let issued = try await server.operatorClient.tenants.issueCredential(IssueCredentialRequest(principalType: .operator, displayName: "second"))
      let all = try await server.operatorClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events
      #expect(Set(all.map(\.tenantID)) == ["", contoso.id, fabrikam.id])
      #expect(all.map(\.sequence) == all.map(\.sequence).sorted())
      let own = all.filter { $0.tenantID.isEmpty }
      #expect(own.map(\.action) == [.credentialIssued, .credentialIssued])
      // The bootstrap key: issued by the system, no secret or hint in it.
      let bootstrap = try #require(own.first)
      #expect(bootstrap.actorType == .system && bootstrap.requestID.isEmpty)
      #expect(bootstrap.details.contains(AuditDetail(key: "source", value: "configuration")))
      #expect(!bootstrap.serializedBytes().contains(subsequence: Array(TestServer.operatorKey.prefix(12).utf8)))
      #expect(own.last?.targetID == issued.credential.id && own.last?.actorType == .operator)
      // One tenant only, when named; a tenant admin still sees only its own.
      let onlyContoso = try await server.operatorClient.tenants.listAuditEvents(ListAuditEventsRequest(tenantID: contoso.id)).events
      #expect(Set(onlyContoso.map(\.tenantID)) == [contoso.id])
      let asAdmin = try await contoso.adminClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events
      #expect(Set(asAdmin.map(\.tenantID)) == [contoso.id])
      // Paging across tenants keeps the order.
      let first = try await server.operatorClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 3))
      let second = try await server.operatorClient.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 3, pageToken: first.nextPageToken))
      #expect((first.events + second.events).map(\.sequence) == Array(all.prefix(6)).map(\.sequence))
      // Watching every tenant: stored events, then new ones of any tenant.
      let watched = try await server.operatorClient.tenants.watchAuditEvents(WatchAuditEventsRequest()) { stream in
        var received: [AuditEvent] = []
        for try await event in stream {
          received.append(event)
          if received.count == all.count {
            _ = try await fabrikam.adminClient.tenants.createGroup(CreateGroupRequest(displayName: "Later"))
          }
          if received.count == all.count + 1 { break }
        }
        return received
      }
      #expect(watched.prefix(all.count).map(\.sequence) == all.map(\.sequence))
      #expect(watched.last?.tenantID == fabrikam.id && watched.last?.action == .groupCreated)
    }
  }

  /// Deleting a member revokes each of its keys with a CREDENTIAL_REVOKED event.
  @Test func deletingAMemberRecordsEachRevokedKey() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let bob = try await contoso.makeUser("Bob", mail: "bob@contoso.com")
      let second = try await contoso.adminClient.tenants.issueCredential(IssueCredentialRequest(userID: bob.user.id, displayName: "laptop"))
      _ = try await contoso.adminClient.tenants.deleteUser(DeleteUserRequest(userID: bob.user.id))
      await expectError(.unauthenticated) { try await bob.client.tenants.getTenant(GetTenantRequest()) }
      let events = try await contoso.adminClient.tenants.listAuditEvents(
        ListAuditEventsRequest(pageSize: 1000, actions: [.credentialRevoked, .userDeleted])).events
      let revoked = events.filter { $0.action == .credentialRevoked }
      #expect(revoked.count == 2)
      #expect(revoked.contains { $0.targetID == second.credential.id })
      #expect(revoked.allSatisfy { $0.details.contains(AuditDetail(key: "user_id", value: bob.user.id)) })
      #expect(revoked.allSatisfy { $0.details.contains(AuditDetail(key: "reason", value: "user_deleted")) })
    }
  }

  /// Every event of a call carries its `x-request-id`, or an id the server made.
  @Test func eventsCarryTheRequestID() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let traced = try await admin.tenants.createGroup(
        CreateGroupRequest(displayName: "Traced"), options: CallOptions(metadata: ["x-request-id": "trace-7f3a"]))
      let long = String(repeating: "r", count: 300)
      let longID = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Long"), options: CallOptions(metadata: ["x-request-id": long]))
      let plain = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Plain"))
      let other = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "Other"))
      let invitation = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "sam@contractor.example"))
      _ = try await server.client(nil).invitations.redeemInvitation(
        RedeemInvitationRequest(ticket: invitation.invitation.ticket), options: CallOptions(metadata: ["x-request-id": "anon-1"]))
      let events = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events
      func requestID(_ target: String) -> String? { events.first { $0.targetID == target }?.requestID }
      #expect(requestID(traced.id) == "trace-7f3a")
      #expect(requestID(longID.id) == String(repeating: "r", count: 128))
      let generated = try #require(requestID(plain.id))
      #expect(generated.hasPrefix("req_") && generated.count == 36)
      #expect(requestID(other.id) != generated)
      let passcodeSent = try #require(events.first { $0.action == .passcodeSent })
      #expect(passcodeSent.requestID == "anon-1" && passcodeSent.actorType == .anonymous && passcodeSent.actorID.isEmpty)
      #expect(events.allSatisfy { !$0.requestID.isEmpty })
    }
  }

  /// `outcome` filters the listing: only refused attempts (a wrong passcode,
  /// a declined invitation) come back with FAILURE, page after page; with
  /// over 10,000 successes before the next failure a page comes back short
  /// with a token, and following it finds the failure.
  @Test func listingByOutcome() async throws {
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let anonymous = server.client(nil)
      for index in 0..<3 {
        let invitation = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "sam\(index)@contractor.example"))
        let sent = try await anonymous.invitations.redeemInvitation(RedeemInvitationRequest(ticket: invitation.invitation.ticket))
        let wrong = try await server.queuedPasscode(invitationID: invitation.invitation.id) == "00000000" ? "11111111" : "00000000"
        await expectError(.permissionDenied, reason: .passcodeInvalid) {
          try await anonymous.invitations.completeRedemption(
            CompleteRedemptionRequest(redemptionSessionID: sent.redemptionSessionID, passcode: wrong))
        }
      }
      let all = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000)).events
      let failures = all.filter { $0.outcome == .failure }
      #expect(failures.count == 3 && all.count > failures.count)
      var listed: [AuditEvent] = []
      var token = ""
      repeat {
        let page = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 2, pageToken: token, outcome: .failure))
        #expect(page.events.count <= 2)
        listed += page.events
        token = page.nextPageToken
      } while !token.isEmpty
      #expect(listed.map(\.sequence) == failures.map(\.sequence))
      let successes = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 1000, outcome: .success)).events
      #expect(successes.map(\.sequence) == all.filter { $0.outcome == .success }.map(\.sequence))
      // 10,001 successes, then one failure: the first page reads 10,000 and comes back empty with a token.
      let tenantID = contoso.id
      let last = try #require(all.last).sequence
      let appended = try await server.app.store.write { writer in
        try (0...10_001).map { index in
          var event = AuditEvent()
          event.tenantID = tenantID
          event.action = index == 10_001 ? .invitationRedeemed : .groupCreated
          event.outcome = index == 10_001 ? .failure : .success
          event.actorType = .system
          event.actorID = "system"
          event.targetID = "grp_many_\(index)"
          return try writer.appendAudit(event)
        }
      }
      let empty = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(afterSequence: last, outcome: .failure))
      #expect(empty.events.isEmpty && !empty.nextPageToken.isEmpty)
      let found = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageToken: empty.nextPageToken, outcome: .failure))
      #expect(found.events.map(\.targetID) == ["grp_many_10001"] && found.nextPageToken.isEmpty)
      #expect(appended.count == 10_002)
    }
  }
}

extension Array where Element == UInt8 {
  func contains(subsequence: [UInt8]) -> Bool {
    guard !subsequence.isEmpty, subsequence.count <= count else { return false }
    return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
  }
}
