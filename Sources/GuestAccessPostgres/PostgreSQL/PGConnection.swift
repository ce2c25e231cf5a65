import CLibPQ

/// One PostgreSQL session (libpq, blocking calls) with a cache of prepared
/// statements. It belongs to one thread at a time (a pool's connection
/// thread, the listener or the lease holder); it reconnects after losing the
/// server, preparing its statements again on demand.
///
/// Statements that need no answer (`enqueue`, `begin`) wait and go with the
/// next one that does, or with the commit, in one round trip (libpq's
/// pipeline mode; see PGConnection+Pipeline.swift).
public final class PGConnection {
  private(set) var handle: OpaquePointer
  /// The connection URI (or libpq keyword string), as given.
  let uri: String
  /// How many times the session was (re)established: a new number means
  /// session state (advisory locks, LISTENs) was lost.
  public private(set) var sessionNumber = 1
  /// Prepared statements: SQL → server-side name.
  private var prepared: [String: String] = [:]

  /// Statements run on every new session (settings), after each reconnect too.
  let setup: String
  /// Statements waiting to be sent with the next one that needs an answer.
  var waiting: [PGStep] = []
  /// The error a waiting statement ran into, sent with a later one: the
  /// transaction is aborted, and its commit reports this error.
  var abortedBy: PGError?

  /// Connects to `uri` (handed to libpq as is) and runs `setup`, if any.
  /// - Throws: `PGError` with SQLSTATE 08001 when it cannot connect.
  public init(uri: String, setup: String = "") throws(PGError) {
    self.uri = uri
    self.setup = setup
    handle = try Self.connect(uri)
    if !setup.isEmpty { try execute(setup) }
  }

  deinit {
    PQfinish(handle)
  }

  private static func connect(_ uri: String) throws(PGError) -> OpaquePointer {
    guard let connection = PQconnectdb(uri) else {
      throw PGError(sqlState: "08001", message: "libpq could not allocate a connection", connectionLost: true)
    }
    guard PQstatus(connection) == CONNECTION_OK else {
      let message = String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines()
      PQfinish(connection)
      throw PGError(sqlState: "08001", message: "cannot connect to PostgreSQL: \(message)", connectionLost: true)
    }
    ga_pq_quiet(connection)
    return connection
  }

  /// Whether the session is usable.
  public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK && PQpipelineStatus(handle) == PQ_PIPELINE_OFF }

  /// The libpq socket (for waiting on notifications).
  var socket: Int32 { PQsocket(handle) }

  /// Reconnects when the session broke (forgetting its prepared statements).
  public func reconnectIfNeeded() throws(PGError) {
    guard !isHealthy else { return }
    let fresh = try Self.connect(uri)
    PQfinish(handle)
    handle = fresh
    sessionNumber += 1
    prepared.removeAll()
    waiting.removeAll()
    abortedBy = nil
    if !setup.isEmpty { try execute(setup) }
  }

  /// Whether the session is inside a transaction block (aborted ones included).
  public var inTransaction: Bool {
    let status = PQtransactionStatus(handle)
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
  }

  /// The server process of this session (unique among live sessions).
  public var backendPID: Int32 { PQbackendPID(handle) }

  func failure(_ result: OpaquePointer?, sql: String?, committing: Bool = false) -> PGError {
    let lost = PQstatus(handle) != CONNECTION_OK
    var state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
    var message = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) } ?? ""
    if message.isEmpty { message = String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines() }
    if state.isEmpty { state = lost ? "08006" : "XX000" }
    return PGError(sqlState: state, message: message, sql: sql, connectionLost: lost, duringCommit: (committing && lost) || sql == "COMMIT")
  }

  /// Runs one or more statements without parameters (simple query protocol);
  /// with statements waiting, one statement, sent after them in one round trip.
  public func execute(_ sql: String) throws(PGError) {
    if !waiting.isEmpty {
      _ = try pipeline(waiting + [PGStep(sql, prepare: false)], syncAfter: [waiting.count])
      return
    }
    let result = PQexec(handle, sql)
    defer { PQclear(result) }
    let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
    guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(result, sql: sql) }
  }

  /// Sends the waiting statements, `statements`, COMMIT, then `afterwards`
  /// (each a statement without parameters: only values the store made itself
  /// belong in them) in one round trip, so that row locks the statements take
  /// are held only until the commit. An error before the COMMIT, or in it,
  /// left nothing committed (unless the connection was lost: `duringCommit`,
  /// the outcome is unknown); an error in `afterwards` comes after the
  /// commit, so it is reported `duringCommit` too.
  public func commit(after statements: [String] = [], then afterwards: [String] = []) throws(PGError) {
    if PQtransactionStatus(handle) == PQTRANS_INERROR {
      // A statement failed and its error was not acted upon: the COMMIT would roll back.
      throw abortedBy ?? PGError(sqlState: "25P02", message: "the transaction was aborted by an earlier error", sql: "COMMIT")
    }
    let steps = waiting + (statements + ["COMMIT"]).map { PGStep($0, prepare: false) }
    let commitIndex = steps.count - 1
    let all = steps + afterwards.map { PGStep($0, prepare: false) }
    var syncs: Set<Int> = [commitIndex]
    if !afterwards.isEmpty { syncs.insert(all.count - 1) }
    _ = try pipeline(all, syncAfter: syncs, commitIndex: commitIndex)
  }

  /// Forgets the waiting statements and ends the transaction, if one is open.
  public func rollback() {
    waiting.removeAll()
    abortedBy = nil
    if inTransaction {
      let result = PQexec(handle, "ROLLBACK")
      PQclear(result)
    }
  }

  /// Sends a statement without parameters whose answer is not needed (BEGIN
  /// and its options, SAVEPOINT) with the next one that needs an answer.
  public func enqueue(command sql: String) {
    waiting.append(PGStep(sql, prepare: false))
  }

  /// Runs a prepared statement whose answer is not needed with the next
  /// statement that needs one (or the commit), in the same round trip. Its
  /// error, if any, is thrown by that statement's call (or by `commit`),
  /// with this statement's SQL. It is prepared now, if it is new to the
  /// session (a mistake in it is thrown here).
  public func enqueue(_ sql: String, _ values: [PGValue] = []) throws(PGError) {
    _ = try statementName(sql, values)
    waiting.append(PGStep(sql, values))
  }

  /// Runs a prepared statement (prepared once per session and kept) with
  /// `values` bound to `$1`, `$2`, …; rows come back in binary format.
  public func query(_ sql: String, _ values: [PGValue] = []) throws(PGError) -> PGResult {
    if !waiting.isEmpty {
      let steps = waiting + [PGStep(sql, values)]
      return try pipeline(steps, syncAfter: [steps.count - 1])!
    }
    let name = try statementName(sql, values)
    let wires = values.map(\.wire)
    let formats = wires.map(\.format)
    let lengths = wires.map { Int32($0.bytes?.count ?? 0) }
    let result = withParameterPointers(wires.map(\.bytes)) { pointers in
      PQexecPrepared(handle, name, Int32(values.count), pointers, lengths, formats, 1)
    }
    guard let result, PQresultStatus(result) == PGRES_TUPLES_OK || PQresultStatus(result) == PGRES_COMMAND_OK else {
      let error = failure(result, sql: sql)
      PQclear(result)
      abortedBy = error
      throw error
    }
    return PGResult(result)
  }

  func statementName(_ sql: String, _ values: [PGValue]) throws(PGError) -> String {
    if let name = prepared[sql] { return name }
    let name = "ga\(prepared.count + 1)"
    let types = values.map(\.typeOID)
    let result = PQprepare(handle, name, sql, Int32(types.count), types)
    defer { PQclear(result) }
    guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else { throw failure(result, sql: sql) }
    prepared[sql] = name
    return name
  }

  /// Runs a statement; returns the number of changed rows.
  @discardableResult
  public func run(_ sql: String, _ values: [PGValue] = []) throws(PGError) -> Int {
    try query(sql, values).changedRows
  }

  /// Runs a query and maps each row.
  public func rows<T>(_ sql: String, _ values: [PGValue] = [], _ map: (PGRow) throws -> T) throws -> [T] {
    let result = try query(sql, values)
    return try (0..<result.rowCount).map { try map(result.row($0)) }
  }

  /// Runs a query and maps the first row, if any.
  public func first<T>(_ sql: String, _ values: [PGValue] = [], _ map: (PGRow) throws -> T) throws -> T? {
    let result = try query(sql, values)
    guard result.rowCount > 0 else { return nil }
    return try map(result.row(0))
  }

  /// Reads pending notifications (LISTEN) without blocking: (channel, payload) pairs.
  /// - Throws: when the connection broke.
  func takeNotifications() throws(PGError) -> [(channel: String, payload: String)] {
    guard PQconsumeInput(handle) == 1 else { throw failure(nil, sql: nil) }
    var received: [(String, String)] = []
    while let notification = PQnotifies(handle) {
      received.append((String(cString: notification.pointee.relname), String(cString: notification.pointee.extra)))
      PQfreemem(notification)
    }
    return received
  }
}

/// Calls `body` with C pointers to each parameter (nil for NULL), valid during the call.
func withParameterPointers<R>(_ values: [[UInt8]?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
  var buffers: [UnsafeMutablePointer<CChar>?] = []
  buffers.reserveCapacity(values.count)
  for value in values {
    guard let value else {
      buffers.append(nil)
      continue
    }
    // NUL-terminated: libpq reads text-format parameters up to the NUL.
    let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: value.count + 1)
    value.withUnsafeBytes { raw in
      if raw.count > 0 { UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
    }
    buffer[value.count] = 0
    buffers.append(buffer)
  }
  defer { for buffer in buffers { buffer?.deallocate() } }
  return body(buffers.map { $0.map { UnsafePointer($0) } })
}

extension String {
  func trimmingTrailingNewlines() -> String {
    var text = self
    while text.last == "\n" { text.removeLast() }
    return text
  }
}
