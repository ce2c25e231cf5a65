import GuestAccessLocks
import Synchronization

/// Copies the WAL back into the database file on a thread of its own, with
/// its own connection, when the writer reports a WAL of `frames` frames or
/// more. PASSIVE checkpoints never block the writer or the readers.
///
/// The WAL restarts from its beginning only when a write begins after a
/// checkpoint copied every frame; under a steady stream of commits the
/// background checkpoint always trails the writer by a few. So once the WAL
/// reaches twice the threshold, the writer finishes the job itself: a
/// checkpoint of only the frames since the background one, cheap, after which
/// its next write restarts the WAL. The file stays bounded under any load.
final class Checkpointer: Sendable {
  private let thread: JobThread<Bool>
  private let pending: Pending
  private let frames: Int

  private final class Pending: Sendable {
    let flag = Atomic<Bool>(false)
    /// WAL size at the writer's last own checkpoint (writer thread only).
    let lastInline = Atomic<Int>(0)
  }

  init(path: String, frames: Int) throws {
    let connection = try SQLiteConnection(path: path)
    try connection.execute("PRAGMA synchronous=FULL")
    try connection.execute("PRAGMA wal_autocheckpoint=0")
    let pending = Pending()
    self.pending = pending
    self.frames = max(1, frames)
    thread = JobThread(name: "ga-db-checkpoint", maxBatch: 1) { _ in
      // A failed checkpoint (e.g. SQLITE_BUSY) is retried at the next request.
      _ = try? connection.first("PRAGMA wal_checkpoint(PASSIVE)") { $0.int64(0) }
      pending.flag.store(false, ordering: .releasing)
    }
  }

  /// Called by the writer after each commit: queues one background
  /// checkpoint at a time, or checkpoints on `writer` to let the WAL restart.
  func afterCommit(walFrames: Int, writer: SQLiteConnection) {
    if walFrames < pending.lastInline.load(ordering: .relaxed) { pending.lastInline.store(0, ordering: .relaxed) }  // restarted
    guard walFrames >= frames,
      pending.flag.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    else { return }
    // A reader holding an old snapshot can keep the WAL from restarting; then the
    // writer checkpoints again only after another `frames` frames, not every commit.
    if walFrames >= 2 * frames && walFrames >= pending.lastInline.load(ordering: .relaxed) + frames {
      pending.lastInline.store(walFrames, ordering: .relaxed)
      _ = try? writer.first("PRAGMA wal_checkpoint(PASSIVE)") { $0.int64(0) }
      pending.flag.store(false, ordering: .releasing)
    } else {
      thread.submit(true)
    }
  }

  /// Finishes a queued checkpoint and ends the thread.
  func stop() {
    thread.stop()
  }
}
