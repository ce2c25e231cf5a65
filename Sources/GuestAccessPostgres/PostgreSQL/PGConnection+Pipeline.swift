import CLibPQ

/// One statement of a pipeline: prepared ones (with parameters, reused) run
/// by name; others (BEGIN, COMMIT, SAVEPOINT, statements with the store's own
/// values written in) as unnamed statements.
struct PGStep {
  var sql: String
  var values: [PGValue]
  var prepare: Bool

  init(_ sql: String, _ values: [PGValue] = [], prepare: Bool = true) {
    self.sql = sql
    self.values = values
    self.prepare = prepare
  }
}

extension PGConnection {
  /// Sends `steps` in libpq's pipeline mode, a Sync after each index in
  /// `syncAfter` (the last step must be one), and reads every result: one
  /// round trip for the lot. Returns the last step's result when it
  /// succeeded. After an error the server skips the rest of that Sync's
  /// steps (PGRES_PIPELINE_ABORTED); the first error is thrown, with its
  /// step's SQL, and remembered in `abortedBy`: a statement whose caller did
  /// not wait for its answer may fail with another's call, and the commit of
  /// the aborted transaction reports it even if that caller swallowed it.
  ///
  /// `commitIndex`: the step that is the COMMIT; an error past it, or the
  /// connection lost with it sent, is `duringCommit`.
  func pipeline(_ steps: [PGStep], syncAfter syncs: Set<Int>, commitIndex: Int? = nil) throws(PGError) -> PGResult? {
    precondition(syncs.contains(steps.count - 1), "a pipeline ends with a Sync")
    // Prepared outside the pipeline, once per session and statement (the
    // waiting ones already are: `enqueue`); on an error here they still wait.
    var names: [String?] = []
    names.reserveCapacity(steps.count)
    for step in steps { names.append(step.prepare ? try statementName(step.sql, step.values) : nil) }
    waiting.removeAll()

    guard PQenterPipelineMode(handle) == 1 else { throw failure(nil, sql: steps.first?.sql, committing: commitIndex != nil) }
    var sendError: PGError?
    var sent = 0
    for (index, step) in steps.enumerated() {
      guard send(step, name: names[index]) else {
        sendError = failure(nil, sql: step.sql, committing: commitIndex != nil)
        break
      }
      sent += 1
      if syncs.contains(index) && PQpipelineSync(handle) != 1 {
        sendError = failure(nil, sql: step.sql, committing: commitIndex != nil)
        break
      }
    }
    if let sendError {
      // The session is unusable (libpq could not send): the next call reconnects.
      _ = PQexitPipelineMode(handle)
      throw sendError
    }

    var error: PGError?
    var last: OpaquePointer?
    var index = 0
    var syncsRead = 0
    let syncCount = syncs.count
    while syncsRead < syncCount {
      guard let result = PQgetResult(handle) else {
        // The end of one statement's results (or a broken connection).
        if PQstatus(handle) != CONNECTION_OK { break }
        index += 1
        continue
      }
      let status = PQresultStatus(result)
      switch status {
      case PGRES_PIPELINE_SYNC:
        syncsRead += 1
        PQclear(result)
      case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
        if index == steps.count - 1 && error == nil {
          if let last { PQclear(last) }
          last = result
        } else {
          PQclear(result)
        }
      case PGRES_PIPELINE_ABORTED:
        PQclear(result)
      default:
        if error == nil {
          let step = min(index, steps.count - 1)
          var failed = failure(result, sql: steps[step].sql)
          // The server answers in order: an error it reported for a step
          // before the COMMIT (even the end of the session, 57P01) means the
          // COMMIT never ran; from the COMMIT on, the outcome is unknown
          // (the COMMIT failed as the session ended) or committed.
          failed.duringCommit = commitIndex.map { step >= $0 } ?? false
          error = failed
        }
        PQclear(result)
      }
    }
    if syncsRead < syncCount && error == nil {
      error = failure(nil, sql: steps[min(index, steps.count - 1)].sql, committing: commitIndex != nil)
    }
    // Leaves pipeline mode (a broken session stays in it: `isHealthy` is then false).
    _ = PQexitPipelineMode(handle)
    // libpq sees the session closed only after the server's last message.
    if PQstatus(handle) != CONNECTION_OK { error?.connectionLost = true }
    if let error {
      if let last { PQclear(last) }
      if commitIndex == nil { abortedBy = error }
      throw error
    }
    if PQstatus(handle) != CONNECTION_OK { throw failure(nil, sql: steps.last?.sql, committing: commitIndex != nil) }
    return last.map(PGResult.init)
  }

  /// Queues one step on the pipeline; false when libpq could not.
  private func send(_ step: PGStep, name: String?) -> Bool {
    guard let name else {
      return PQsendQueryParams(handle, step.sql, 0, nil, nil, nil, nil, 1) == 1
    }
    let wires = step.values.map(\.wire)
    let formats = wires.map(\.format)
    let lengths = wires.map { Int32($0.bytes?.count ?? 0) }
    return withParameterPointers(wires.map(\.bytes)) { pointers in
      PQsendQueryPrepared(handle, name, Int32(step.values.count), pointers, lengths, formats, 1) == 1
    }
  }
}
