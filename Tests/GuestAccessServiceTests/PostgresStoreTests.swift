import Foundation
import GuestAccessClient
import GuestAccessPostgres
import GuestAccessServer
import GuestAccessStorage
import GuestAccessTestSupport
import Testing

/// The PostgreSQL store's own behaviour: sessions killed by the server are
/// replaced without failing calls, and the principal cache is off while the
/// notification listener is disconnected.
@Suite("PostgreSQL store", .enabled(if: TestDatabase.runsMultiInstanceTests, "needs GUESTACCESS_TEST_POSTGRES_URL (run Scripts/test)"))
struct PostgresStoreTests {
  /// Ends every session of `database` but the caller's (as a failover or an administrator would).
  private func terminateSessions(of database: String, applicationLike: String? = nil) throws {
    let admin = try PGConnection(uri: TestDatabase.uri(TestDatabase.postgresURL!, database: "postgres"))
    _ = try admin.run(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND ($2 = '' OR query LIKE $2)",
      [.text(database), .text(applicationLike ?? "")])
  }

  @Test func callsSurviveTheServerEndingEverySession() async throws {
    let name = "ga_store_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let uri = try TestDatabase.database(named: name)
    try await withTestServer(configure: { $0.database = .postgres(uri: uri) }) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      for round in 0..<3 {
        try terminateSessions(of: name)
        // A write and a read on sessions the server just ended: reconnected, run again, nothing lost.
        let group = try await admin.tenants.createGroup(CreateGroupRequest(displayName: "After \(round)"))
        try terminateSessions(of: name)
        let listed = try await admin.tenants.listGroups(ListGroupsRequest())
        #expect(listed.groups.contains { $0.id == group.id })
      }
      #expect(try await admin.tenants.listGroups(ListGroupsRequest()).groups.count == 3)
    }
  }

  @Test func noPrincipalIsCachedWhileTheListenerIsDown() async throws {
    let name = "ga_store_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let uri = try TestDatabase.database(named: name)
    let store = try PostgresDirectoryStore(uri: uri, connections: 1)
    defer { store.close() }
    // Listening: the generation holds still between changes.
    let deadline = ContinuousClock.now + .seconds(5).scaled
    while store.authGeneration != store.authGeneration && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    #expect(store.authGeneration == store.authGeneration)
    // Disconnected: every read is a new generation, so a cache trusts nothing.
    // The listener reconnects within about a second, which a loaded machine
    // may not schedule this task in: it is ended again until the gap is seen.
    var sawUncached = false
    let down = ContinuousClock.now + .seconds(4).scaled
    var lastEnded = ContinuousClock.now - .seconds(1)
    while !sawUncached && ContinuousClock.now < down {
      if ContinuousClock.now - lastEnded > .milliseconds(300) {
        try terminateSessions(of: name, applicationLike: "LISTEN%")
        lastEnded = ContinuousClock.now
      }
      sawUncached = store.authGeneration != store.authGeneration
      if !sawUncached { try await Task.sleep(for: .milliseconds(5)) }
    }
    #expect(sawUncached)
    // Reconnected within about a second: stable again.
    let back = ContinuousClock.now + .seconds(5).scaled
    while store.authGeneration != store.authGeneration && ContinuousClock.now < back { try await Task.sleep(for: .milliseconds(20)) }
    #expect(store.authGeneration == store.authGeneration)
  }
}
