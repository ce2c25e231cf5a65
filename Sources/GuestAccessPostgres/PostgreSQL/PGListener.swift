import CLibPQ
import Dispatch
import GuestAccessLocks
import Synchronization

/// A session of its own that LISTENs on some channels, on a dedicated thread,
/// and hands each notification to `onNotification`. It reconnects after
/// losing the server (every second); `isListening` is false meanwhile, and
/// `onListening` runs after each (re)connection, since notifications sent
/// while it was down are lost.
final class PGListener: Sendable {
  private let stopping = Atomic<Bool>(false)
  private let listening = Atomic<Bool>(false)
  private let done = DispatchSemaphore(value: 0)

  /// Starts listening on `channels` (plain identifiers) at `uri`.
  init(
    uri: String, channels: [String], onListening: @escaping @Sendable () -> Void,
    onNotification: @escaping @Sendable (_ channel: String, _ payload: String) -> Void
  ) {
    let started = DetachedThread.start(name: "ga-pg-listen") { [self] in
      run(uri: uri, channels: channels, onListening: onListening, onNotification: onNotification)
    }
    precondition(started, "cannot start the PostgreSQL listener thread")
  }

  /// Whether notifications are being received now.
  var isListening: Bool { listening.load(ordering: .acquiring) }

  /// Ends the thread (within a fraction of a second) and closes its session.
  func stop() {
    guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
    done.wait()
  }

  private func run(
    uri: String, channels: [String], onListening: @Sendable () -> Void, onNotification: @Sendable (String, String) -> Void
  ) {
    var connection: PGConnection?
    var lastAttempt = ContinuousClock.now - .seconds(10)
    while !stopping.load(ordering: .acquiring) {
      guard let session = connection, session.isHealthy else {
        listening.store(false, ordering: .releasing)
        connection = nil
        guard ContinuousClock.now - lastAttempt >= .seconds(1) else {
          usleepChecking()
          continue
        }
        lastAttempt = .now
        if let fresh = try? PGConnection(uri: uri),
          (try? fresh.execute(channels.map { "LISTEN \($0)" }.joined(separator: "; "))) != nil
        {
          connection = fresh
          listening.store(true, ordering: .releasing)
          onListening()
        }
        continue
      }
      guard ga_pq_wait_readable(session.socket, 100) >= 0 else { continue }
      do {
        for notification in try session.takeNotifications() { onNotification(notification.channel, notification.payload) }
      } catch {
        listening.store(false, ordering: .releasing)
        connection = nil
      }
    }
    listening.store(false, ordering: .releasing)
    connection = nil
    done.signal()
  }

  private func usleepChecking() {
    _ = ga_pq_wait_readable(-1, 100)
  }
}
