import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// The background sweeper of the guest lifecycle. Each
/// sweep, at the environment clock's now:
///
/// 1. expires pending invitations past `expires_at` (status EXPIRED, ticket
///    cleared; audit INVITATION_EXPIRED);
/// 2. blocks guests past `access_expires_at` (account_enabled false; audit
///    GUEST_ACCESS_EXPIRED) — authentication already refuses them from that
///    instant, the sweep makes the state visible;
/// 3. removes guests whose `removal_scheduled_at` (set by a denying access
///    review) has passed, as RemoveGuest does (audit GUEST_REMOVED); a guest
///    whose sign-in was re-enabled meanwhile keeps its access and only loses
///    the schedule (audit GUEST_UPDATED);
/// 4. purges guests removed more than 30 days ago: their credentials are
///    revoked and the user, memberships and assignments deleted for good
///    (audit GUEST_PURGED);
/// 5. deletes idempotency keys older than 24 hours (no audit: they are not
///    directory state; a create ignores them from that age on anyway);
/// 6. deletes passcode sign-in sessions older than 24 hours (their passcodes
///    expired long before; no audit).
///
/// Work runs in batches, one transaction each, with at most `maxPerRun`
/// items per step per sweep so a backlog never holds the writer for long;
/// the rest waits for the next sweep. Every event's actor is SYSTEM.
public final class Sweeper: Sendable {
  /// What one sweep changed.
  public struct Report: Sendable, Hashable {
    /// Pending invitations marked EXPIRED.
    public var invitationsExpired = 0
    /// Guests blocked because their access expired.
    public var guestsExpired = 0
    /// Guests removed because their scheduled removal was due.
    public var guestsRemoved = 0
    /// Scheduled removals dropped because the guest was re-enabled.
    public var removalsCancelled = 0
    /// Removed guests deleted for good.
    public var guestsPurged = 0
    /// Idempotency keys past their 24 hours deleted.
    public var idempotencyKeysPurged = 0
    /// Passcode sign-in sessions and federated sign-ins (provider states) past their 24 hours deleted.
    public var signInSessionsPurged = 0

    /// A report of no changes.
    public init() {}

    /// Everything changed.
    public var total: Int {
      invitationsExpired + guestsExpired + guestsRemoved + removalsCancelled + guestsPurged + idempotencyKeysPurged + signInSessionsPurged
    }
  }

  let env: ServiceEnvironment
  /// Time between background sweeps.
  public let interval: Duration
  /// Items per transaction.
  let batchSize: Int
  /// Items per step and sweep.
  let maxPerRun: Int

  /// Creates a sweeper; `run()` starts the background loop.
  public init(environment: ServiceEnvironment, interval: Duration = .seconds(60), batchSize: Int = 200, maxPerRun: Int = 10_000) {
    env = environment
    self.interval = interval
    self.batchSize = max(1, batchSize)
    self.maxPerRun = max(1, maxPerRun)
  }

  /// One sweep now (by the environment's clock).
  @discardableResult
  public func runOnce() async throws -> Report {
    try await sweep(now: env.clock.nowMillis())
  }

  /// One sweep at `now`.
  @discardableResult
  public func sweep(now: Int64) async throws -> Report {
    var report = Report()
    report.invitationsExpired = try await drain(now: now) { writer, events, audit, limit in
      try Self.expireInvitations(writer, &events, audit, now: now, limit: limit)
    }
    report.guestsExpired = try await drain(now: now) { writer, events, audit, limit in
      try Self.expireGuests(writer, &events, audit, now: now, limit: limit)
    }
    var cancelled = 0
    report.guestsRemoved = try await drain(now: now) { writer, events, audit, limit in
      try Self.removeScheduled(writer, &events, audit, now: now, limit: limit)
    } counting: { cancelled += $0 }
    report.removalsCancelled = cancelled
    report.guestsPurged = try await drain(now: now) { writer, events, audit, limit in
      try Self.purge(writer, &events, audit, now: now, limit: limit)
    }
    report.idempotencyKeysPurged = try await drain(now: now) { writer, _, _, limit in
      let purged = try writer.purgeIdempotentResults(before: now - Idempotency.retentionMillis, limit: limit)
      return Batch(fetched: purged, counted: purged)
    }
    report.signInSessionsPurged = try await drain(now: now) { writer, _, _, limit in
      let purged = try writer.deleteSignInSessions(createdBy: now - 86_400_000, limit: limit)
        + writer.deleteFederatedSignIns(createdBy: now - 86_400_000, limit: limit)
      return Batch(fetched: purged, counted: purged)
    }
    return report
  }

  /// Sweeps every `interval` until the task is cancelled; failures are logged and retried next time.
  public func run() async {
    while !Task.isCancelled {
      do {
        try await Task.sleep(for: interval)
      } catch {
        return
      }
      // With several guestd on one database, one of them sweeps at a time.
      guard await env.store.holdsLease(.sweeper) else { continue }
      do {
        let report = try await runOnce()
        if report.total > 0 { env.logger.info("sweep: \(report)") }
      } catch {
        env.logger.error("sweep failed: \(error)")
      }
    }
  }

  /// The outcome of one batch: items fetched, items the step counts, and others.
  struct Batch: Sendable {
    var fetched: Int
    var counted: Int
    var other = 0
  }

  /// Runs batches of `step` until one comes back short or the budget is spent; returns the counted items.
  private func drain(
    now: Int64, _ step: @escaping @Sendable (any DirectoryWriter, inout [AuditEvent], AuditRecorder, Int) throws -> Batch,
    counting other: (Int) -> Void = { _ in }
  ) async throws -> Int {
    let audit = AuditRecorder(systemAt: now)
    let size = batchSize
    var done = 0
    var counted = 0
    while done < maxPerRun {
      let limit = min(size, maxPerRun - done)
      let batch = try await env.write { writer, events in try step(writer, &events, audit, limit) }
      done += batch.fetched
      counted += batch.counted
      other(batch.other)
      if batch.fetched < limit { break }
    }
    return counted
  }
}
