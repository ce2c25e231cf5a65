import CoreMetrics

/// Server-wide gauges sampled by the app (connections, outbox depth, write
/// backlog) and storage commit figures.
struct ServerMetrics: Sendable {
  let connections = Gauge(label: "guestaccess_connections_open")
  let outboxDepth = Gauge(label: "guestaccess_outbox_depth")
  let writeBacklog = Gauge(label: "guestaccess_storage_write_backlog")
  let commitBatch = Recorder(label: "guestaccess_storage_commit_batch_size", aggregate: true)
  let commitLatency = Timer(label: "guestaccess_storage_commit_duration_seconds")
  let commits = Counter(label: "guestaccess_storage_commits_total")

  /// Records one group commit.
  func recordCommit(batch: Int, duration: Duration) {
    commits.increment()
    commitBatch.record(batch)
    commitLatency.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
  }
}
