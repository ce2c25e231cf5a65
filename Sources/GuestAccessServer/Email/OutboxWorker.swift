import GuestAccessEmail
import GuestAccessLocks
import GuestAccessProto
import GuestAccessStorage
import Logging
import Synchronization

/// Drains the outbox: renders each due message, hands it to the transport on
/// a dedicated thread, and records the outcome.
///
/// Each attempt is three steps:
/// 1. *Claim* (one transaction): the message must still be queued and due;
///    `attempts` is incremented and `next_attempt_at` moved to the retry time,
///    so a crash during delivery leaves a message that is retried later, and
///    a message that keeps crashing the server still runs out of attempts.
/// 2. *Deliver*, outside any transaction, on the worker's own thread.
/// 3. *Record* (one transaction): sent — `sent_at` set and the payload (which
///    holds the redeem link or the passcode in clear) erased in the same
///    update; a transient failure — stays queued for the claimed retry time,
///    or fails for good after the last attempt; a permanent failure — failed.
///    Final failures erase the payload too and write INVITATION_EMAIL_FAILED.
///
/// A message recorded as sent is never selected again. A crash between the
/// transport accepting a message and step 3 sends it once more after the
/// restart (SMTP has no way to ask a relay whether it already took a
/// message); the spool transport overwrites its own file, so it stays exactly once.
public final class OutboxWorker: Sendable {
  let env: ServiceEnvironment
  let transport: any EmailTransport
  let renderer: EmailRenderer
  let backoff: DeliveryBackoff
  private let pollInterval: Duration
  private let batchSize: Int
  let thread = BlockingThread(name: "ga-email")
  private let stopping = Atomic<Bool>(false)
  let logger: Logger

  /// Creates a worker delivering through `transport` as `settings` say.
  public init(environment: ServiceEnvironment, transport: any EmailTransport, settings: EmailSettings, batchSize: Int = 50) {
    env = environment
    self.transport = transport
    renderer = EmailRenderer(sender: settings.from)
    backoff = DeliveryBackoff(settings: settings)
    pollInterval = .milliseconds(Int64(max(0.001, settings.pollInterval) * 1000))
    self.batchSize = batchSize
    var logger = environment.logger
    logger[metadataKey: "component"] = "outbox"
    self.logger = logger
  }

  /// Delivers until `stop()` or cancellation; a delivery in progress is finished first.
  public func run() async {
    logger.info("outbox worker started (transport \(transport.name))")
    while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
      var attempted = 0
      do {
        attempted = try await drainOnce()
      } catch {
        logger.error("outbox: \(error)")
      }
      if attempted == 0 { try? await Task.sleep(for: pollInterval) }
    }
    thread.stop()
    logger.info("outbox worker stopped")
  }

  /// Stops taking new messages.
  public func stop() {
    stopping.store(true, ordering: .relaxed)
  }

  /// One pass over the due messages; returns how many were attempted.
  @discardableResult
  func drainOnce() async throws -> Int {
    let now = env.clock.nowMillis()
    let limit = batchSize
    let due = try await env.store.read { try $0.dueOutboxMessages(now: now, limit: limit) }
    var attempted = 0
    for message in due {
      guard !stopping.load(ordering: .relaxed) && !Task.isCancelled else { break }
      if try await attempt(id: message.id) { attempted += 1 }
    }
    return attempted
  }
}
