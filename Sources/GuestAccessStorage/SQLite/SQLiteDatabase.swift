import GuestAccessLocks
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An SQLite database in WAL mode with one serialized writer thread and a
/// pool of reader threads, each owning its connection.
///
/// Writes are durable when acknowledged: `synchronous=FULL`, and the writer
/// runs every write queued while it was committing as one transaction (each
/// write in its own savepoint, so one failing write does not fail the
/// others) — group commit: one fsync serves the whole batch. Checkpoints run
/// on a thread of their own (PASSIVE, from their own connection) once the WAL
/// holds `checkpointFrames` frames, so the writer never waits for one.
public final class SQLiteDatabase: Sendable {
  /// A write waiting for the writer thread.
  struct WriteJob: @unchecked Sendable {
    let run: (SQLiteConnection) throws -> Void
    let complete: (Result<Void, any Error>) -> Void
  }

  /// A read waiting for a reader thread.
  struct ReadJob: @unchecked Sendable {
    let run: (SQLiteConnection) -> Void
  }

  /// The database file.
  public let path: String
  private let writer: JobThread<WriteJob>
  private let readers: [JobThread<ReadJob>]
  private let checkpointer: Checkpointer
  private let nextReader = Atomic<Int>(0)
  private let generation = Generation()
  private let commitStats = CommitStatistics()
  /// Called after each commit with the batch size and the commit's duration.
  private let onCommit: @Sendable (Int, Duration) -> Void

  /// Opens (creating) the database at `path`, runs `migrations`, and starts the threads.
  public init(
    path: String, migrations: [Migration], readerCount: Int = 4, maxBatch: Int = 512, checkpointFrames: Int = 2000,
    onCommit: @escaping @Sendable (Int, Duration) -> Void = { _, _ in }
  ) throws {
    self.path = path
    self.onCommit = onCommit
    try DatabaseFiles.makePrivate(path)
    let writeConnection = try SQLiteConnection(path: path)
    try writeConnection.execute("PRAGMA journal_mode=WAL")
    try writeConnection.execute("PRAGMA synchronous=FULL")
    // Deleted and overwritten content is zeroed in the pages, and the WAL is
    // truncated whenever it restarts, so a secret erased from a row (a
    // delivered email's ticket or passcode) leaves no copy in the files once
    // a checkpoint has passed.
    try writeConnection.execute("PRAGMA secure_delete=ON; PRAGMA journal_size_limit=0")
    try writeConnection.execute("PRAGMA foreign_keys=ON")
    // A large page cache and memory-mapped reads keep pages out of pread copies.
    try writeConnection.execute("PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY")
    try Migrator(migrations: migrations).migrate(writeConnection)
    try writeConnection.trackWALFrames()
    let checkpointer = try Checkpointer(path: path, frames: checkpointFrames)
    self.checkpointer = checkpointer
    let stats = commitStats
    let commitHook = onCommit
    let generation = generation
    writer = JobThread(name: "ga-db-writer", maxBatch: maxBatch) { batch in
      Self.processWrites(batch, connection: writeConnection, stats: stats, generation: generation, onCommit: commitHook)
      checkpointer.afterCommit(walFrames: writeConnection.walFrames, writer: writeConnection)
    }
    var readers: [JobThread<ReadJob>] = []
    for index in 0..<max(1, readerCount) {
      let connection = try SQLiteConnection(path: path)
      try connection.execute("PRAGMA foreign_keys=ON")
      try connection.execute("PRAGMA query_only=ON")
      try connection.execute("PRAGMA cache_size=-16384; PRAGMA mmap_size=1073741824")
      readers.append(JobThread(name: "ga-db-reader-\(index)", maxBatch: 1) { batch in
        for job in batch { job.run(connection) }
      })
    }
    self.readers = readers
  }

  /// Runs `body` in a write transaction on the writer thread; returns after
  /// the transaction holding it has been committed durably.
  public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
    let box = ResultBox<T>()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      writer.submit(WriteJob(
        run: { connection in box.value = try body(connection) },
        complete: { result in
          switch result {
          case .success: continuation.resume(returning: box.value!)
          case .failure(let error): continuation.resume(throwing: error)
          }
        }))
    }
  }

  /// Runs `body` in a read transaction (a consistent snapshot) on a reader thread.
  public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
    let reader = readers[nextReader.add(1, ordering: .relaxed).oldValue % readers.count]
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      reader.submit(ReadJob { connection in
        do {
          try connection.run("BEGIN")
          defer { _ = try? connection.run("COMMIT") }
          continuation.resume(returning: try body(connection))
        } catch {
          continuation.resume(throwing: error)
        }
      })
    }
  }

  /// Moves on (after the commit, before the writes are acknowledged) whenever
  /// a committed write called `SQLiteConnection.markInvalidatesCaches()`. A
  /// cache stores the generation it read before its snapshot began and trusts
  /// an entry only while the generation is unchanged.
  public var cacheGeneration: UInt64 { generation.value.load(ordering: .acquiring) }

  /// Commits so far, writes so far, and the largest batch.
  public var statistics: (commits: Int, writes: Int, largestBatch: Int) { commitStats.state.withLock { $0 } }

  /// Writes waiting for the writer.
  public var writeBacklog: Int { writer.backlog }

  /// Finishes queued work and stops the threads.
  public func close() {
    writer.stop()
    checkpointer.stop()
    for reader in readers { reader.stop() }
  }

  private static func processWrites(
    _ batch: [WriteJob], connection: SQLiteConnection, stats: CommitStatistics, generation: Generation,
    onCommit: @Sendable (Int, Duration) -> Void
  ) {
    let started = ContinuousClock.now
    var outcomes: [Result<Void, any Error>] = []
    outcomes.reserveCapacity(batch.count)
    do {
      try connection.run("BEGIN IMMEDIATE")
    } catch {
      for job in batch { job.complete(.failure(error)) }
      return
    }
    for job in batch {
      do {
        try connection.run("SAVEPOINT job")
        do {
          try job.run(connection)
          try connection.run("RELEASE job")
          outcomes.append(.success(()))
        } catch {
          try connection.run("ROLLBACK TO job")
          try connection.run("RELEASE job")
          outcomes.append(.failure(error))
        }
      } catch {
        outcomes.append(.failure(error))
      }
    }
    do {
      try connection.run("COMMIT")
    } catch {
      _ = try? connection.run("ROLLBACK")
      // Should a failed COMMIT have left anything visible, caches must not trust it: move on anyway.
      if connection.takeCacheInvalidation() { generation.value.add(1, ordering: .releasing) }
      for job in batch { job.complete(.failure(error)) }
      return
    }
    // A rolled-back write may have set the mark too: a spurious move costs a cache miss, never staleness.
    if connection.takeCacheInvalidation() { generation.value.add(1, ordering: .releasing) }
    stats.state.withLock { stats in
      stats.commits += 1
      stats.writes += batch.count
      stats.largestBatch = max(stats.largestBatch, batch.count)
    }
    onCommit(batch.count, started.duration(to: .now))
    for (job, outcome) in zip(batch, outcomes) { job.complete(outcome) }
  }
}

/// The database file and its -wal and -shm companions are readable by their
/// owner only (mode 0600), whoever created them: SQLite gives the companions
/// the database file's mode, so it is created 0600 before SQLite opens it.
enum DatabaseFiles {
  static func makePrivate(_ path: String) throws(SQLiteError) {
    let fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw SQLiteError(resultCode: 14, message: "cannot open \(path): \(String(cString: strerror(errno)))", sql: nil)
    }
    defer { close(fd) }
    guard fchmod(fd, 0o600) == 0 else {
      throw SQLiteError(resultCode: 14, message: "cannot make \(path) private (mode 0600): \(String(cString: strerror(errno)))", sql: nil)
    }
    for suffix in ["-wal", "-shm", "-journal"] { _ = chmod(path + suffix, 0o600) }
  }
}

/// Carries a write's result from the writer thread to its continuation.
final class ResultBox<T>: @unchecked Sendable {
  var value: T?
}

/// The cache generation shared with the writer thread.
final class Generation: Sendable {
  let value = Atomic<UInt64>(0)
}

/// Commit counters shared with the writer thread.
final class CommitStatistics: Sendable {
  let state = LockedValue<(commits: Int, writes: Int, largestBatch: Int)>((0, 0, 0))
}
