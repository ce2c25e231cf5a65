import Foundation
import GuestAccessPostgres
import Testing

/// Statements sent without waiting for their answer (`enqueue`) go with the
/// next one that needs an answer, or with the COMMIT, in one round trip
/// (libpq's pipeline mode): their errors still surface, with their SQLSTATE,
/// message and SQL, and roll the transaction back; a connection lost before
/// the COMMIT provably committed nothing.
@Suite("PostgreSQL pipelines", .enabled(if: TestDatabase.postgresAvailable, "needs GUESTACCESS_TEST_POSTGRES_URL (run Scripts/test)"))
struct PostgresPipelineTests {
  private static let insert = "INSERT INTO t (id) VALUES ($1)"
  private static let insertAgain = "INSERT INTO t (id, note) VALUES ($1, 'again')"

  private func session() throws -> PGConnection {
    let name = "ga_pipe_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let connection = try PGConnection(uri: try TestDatabase.database(named: name))
    try connection.execute("CREATE TABLE t (id bigint PRIMARY KEY, note text)")
    return connection
  }

  private func count(_ connection: PGConnection) throws -> Int64 {
    try connection.first("SELECT count(*) FROM t") { $0.int64(0) } ?? -1
  }

  /// A session in a transaction with a row inserted and the same row again, both waiting.
  private func sessionWithAConflictWaiting() throws -> PGConnection {
    let connection = try session()
    connection.enqueue(command: "BEGIN")
    try connection.enqueue(Self.insert, [1])
    try connection.enqueue(Self.insertAgain, [1])
    return connection
  }

  /// The PostgreSQL error `body` throws, if any.
  private func failure(_ body: () throws -> Void) -> PGError? {
    do {
      try body()
      return nil
    } catch {
      return error as? PGError
    }
  }

  @Test func writesWaitingForTheNextQueryAreSentWithItAndSeenByIt() throws {
    let connection = try session()
    connection.enqueue(command: "BEGIN")
    for id in 1...3 { try connection.enqueue(Self.insert, [.int(id)]) }
    #expect(try count(connection) == 3)
    try connection.enqueue(Self.insert, [4])
    try connection.commit(then: ["SELECT 1"])
    #expect(!connection.inTransaction)
    #expect(try count(connection) == 4)
  }

  @Test func anErrorOfAWaitingWriteSurfacesWithItsSQLAndTheCommitReportsItEvenIfSwallowed() throws {
    let connection = try sessionWithAConflictWaiting()
    let thrown = failure { _ = try count(connection) }
    #expect(thrown?.sqlState == "23505")
    #expect(thrown?.sql == Self.insertAgain)
    #expect(thrown?.message.contains("duplicate key") == true)
    #expect(thrown?.provablyNotCommitted == false)  // not transient: a conflict, not a lost session
    // The caller went on as if nothing happened: the commit refuses, with that error.
    #expect(throws: thrown!) { try connection.commit() }
    connection.rollback()
    #expect(try count(connection) == 0)
  }

  @Test func anErrorInTheCommitBatchRollsEverythingBack() throws {
    let connection = try sessionWithAConflictWaiting()
    let thrown = failure { try connection.commit(then: ["SELECT 1"]) }
    #expect(thrown?.sqlState == "23505")
    #expect(thrown?.sql == Self.insertAgain)
    #expect(thrown?.duringCommit == false)
    connection.rollback()
    // The session is usable again, out of pipeline mode, and nothing was committed.
    #expect(connection.isHealthy)
    #expect(try count(connection) == 0)
  }

  @Test func anErrorAfterTheCommitIsReportedAsDuringTheCommit() throws {
    let connection = try session()
    connection.enqueue(command: "BEGIN")
    try connection.enqueue(Self.insert, [1])
    let thrown = failure { try connection.commit(then: ["SELECT 1 / 0"]) }
    #expect(thrown?.sqlState == "22012")
    #expect(thrown?.duringCommit == true)
    #expect(try count(connection) == 1)
  }

  @Test func aSessionEndedBeforeTheBatchReachesItCommittedNothingAndSaysSo() throws {
    let connection = try session()
    let admin = try PGConnection(uri: TestDatabase.uri(TestDatabase.postgresURL!, database: "postgres"))
    func endSession() throws {
      _ = try admin.run("SELECT pg_terminate_backend($1::integer)", [.int(connection.backendPID)])
      usleep(50_000)
    }
    for commits in [false, true] {
      connection.enqueue(command: "BEGIN")
      try connection.enqueue(Self.insert, [1])
      try endSession()
      let thrown = failure { if commits { try connection.commit(then: ["SELECT 1"]) } else { _ = try count(connection) } }
      // Ended by the server (57P01) or found closed: the call may run again on a new session.
      #expect(thrown?.isTransient == true, "\(String(describing: thrown))")
      #expect(thrown?.provablyNotCommitted == true, "\(String(describing: thrown))")
      connection.rollback()
      try connection.reconnectIfNeeded()
      #expect(try count(connection) == 0)
    }
  }
}
