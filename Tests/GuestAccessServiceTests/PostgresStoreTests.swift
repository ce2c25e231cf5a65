import Foundation
import GuestAccessClient
import GuestAccessPostgres
import GuestAccessServer
import GuestAccessStorage
import GuestAccessTestSupport
import Synchronization
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
    // The database refuses new sessions while the listener's is ended, so it
    // stays disconnected until allowed again (however busy the machine).
    let admin = try PGConnection(uri: TestDatabase.uri(TestDatabase.postgresURL!, database: "postgres"))
    try admin.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
    try terminateSessions(of: name, applicationLike: "LISTEN%")
    // Disconnected: every read is a new generation, so a cache trusts nothing.
    var sawUncached = false
    let down = ContinuousClock.now + .seconds(5).scaled
    while !sawUncached && ContinuousClock.now < down {
      sawUncached = store.authGeneration != store.authGeneration
      if !sawUncached { try await Task.sleep(for: .milliseconds(5)) }
    }
    try admin.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
    #expect(sawUncached)
    // Reconnected within about a second: stable again.
    let back = ContinuousClock.now + .seconds(5).scaled
    while store.authGeneration != store.authGeneration && ContinuousClock.now < back { try await Task.sleep(for: .milliseconds(20)) }
    #expect(store.authGeneration == store.authGeneration)
  }

  private func freshStore(connections: Int) throws -> PostgresDirectoryStore {
    let name = "ga_store_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    return try PostgresDirectoryStore(uri: try TestDatabase.database(named: name), connections: connections)
  }

  private struct Undone: Error {}

  private final class Flag: Sendable {
    let value = Atomic<Bool>(false)
  }

  /// Concurrent transactions append audit events and stay open for
  /// different times after it (so they commit in another order than they
  /// appended), some roll back, some undo theirs with a savepoint, while a
  /// follower reads after the last number it saw: every read continues
  /// exactly where the previous one ended (a number missing while a later
  /// one is visible is a number the follower would have skipped), and the
  /// committed events are numbered one after the other.
  @Test func aFollowerNeverSkipsAnAuditSequenceUnderConcurrentWriters() async throws {
    let store = try freshStore(connections: 12)
    defer { store.close() }
    let writes = 400
    let done = Flag()
    let follower = Task { () -> [AuditEvent] in
      var seen: [AuditEvent] = []
      var last: Int64 = 0
      while true {
        let finished = done.value.load(ordering: .acquiring)
        var filter = AuditFilter()
        filter.cursor = last
        let query = filter
        let page = try await store.read { try $0.auditEvents(tenantID: nil, filter: query, limit: 1000) }
        for event in page {
          if event.sequence != last + 1 { Issue.record("after \(last) the follower read \(event.sequence): it skipped a number") }
          last = event.sequence
        }
        seen += page
        if finished && page.isEmpty { return seen }
        if page.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
      }
    }
    let committed = try await withThrowingTaskGroup(of: String?.self) { group in
      for index in 0..<writes {
        group.addTask {
          do {
            return try await store.write { writer -> String? in
              var event = AuditEvent()
              event.tenantID = "t\(index % 3)"
              event.action = .groupCreated
              event.targetID = "grp_\(index)"
              _ = try writer.appendAudit(event)
              if index % 7 == 3 {
                // Appended, then undone by a savepoint: leaves no hole.
                try? writer.undoingOnError { () throws -> Void in
                  var undone = event
                  undone.targetID = "undone_\(index)"
                  _ = try writer.appendAudit(undone)
                  throw Undone()
                }
              }
              // Open for a while after taking part in the numbering order.
              usleep(UInt32((index * 7919) % 4000))
              if index % 11 == 5 { throw Undone() }
              return event.targetID
            }
          } catch is Undone {
            return nil
          }
        }
      }
      var targets: [String] = []
      for try await target in group { if let target { targets.append(target) } }
      return targets
    }
    done.value.store(true, ordering: .releasing)
    let seen = try await follower.value
    #expect(Set(seen.map(\.targetID)) == Set(committed))
    #expect(seen.count == committed.count)
    #expect(seen.map(\.sequence) == Array(1...Int64(committed.count)))
  }

  /// Rate-window counts are committed as they are added (no transaction
  /// holds the window's row until it commits): concurrent transactions add
  /// up exactly, and a transaction that rolls back takes its count back.
  @Test func rateWindowCountsAddUpAndRolledBackOnesAreTakenBack() async throws {
    let store = try freshStore(connections: 8)
    defer { store.close() }
    let now: Int64 = 1_800_000_000_000
    /// Runs `count` concurrent transactions that each add 1 and stay open a
    /// while; those whose index `rollsBack` picks then roll back. Returns the
    /// counts the others saw.
    func concurrentCharges(_ count: Int, rollsBack: @escaping @Sendable (Int) -> Bool) async throws -> [Int] {
      try await withThrowingTaskGroup(of: Int?.self) { group in
        for index in 0..<count {
          group.addTask {
            do {
              return try await store.write { writer -> Int? in
                let counted = try writer.countInWindow(key: "invite:t", now: now, windowMillis: 60_000, add: 1).count
                usleep(UInt32((index * 7919) % 2000))
                if rollsBack(index) { throw Undone() }
                return counted
              }
            } catch is Undone {
              return nil
            }
          }
        }
        var counts: [Int] = []
        for try await count in group { if let count { counts.append(count) } }
        return counts
      }
    }
    // Every add is atomic: 40 concurrent ones saw 1 to 40, each once.
    #expect(try await concurrentCharges(40) { _ in false }.sorted() == Array(1...40))
    // A quarter of 20 more roll back: their counts are taken back.
    #expect(try await concurrentCharges(20) { $0 % 4 == 0 }.count == 15)
    let stored = try await store.write { try $0.failureCount(key: "invite:t", now: now, windowMillis: 60_000) }
    #expect(stored == 55)
    // Undone by a savepoint: taken back too.
    try await store.write { writer in
      _ = try? writer.undoingOnError { () throws -> Void in
        _ = try writer.countInWindow(key: "invite:t", now: now, windowMillis: 60_000, add: 5)
        throw Undone()
      }
    }
    #expect(try await store.write { try $0.failureCount(key: "invite:t", now: now, windowMillis: 60_000) } == 55)
  }
}
