import Synchronization

/// The calls running at once for one client address, over all its
/// connections: with `TCPServerConfiguration.maxRunningCallsPerPeer` it keeps
/// one source from holding the server's handlers (and the responses they are
/// building, which no byte budget sees yet) by opening more connections.
/// Shared by the connections of one address; counted without a lock.
final class PeerCalls: Sendable {
  private let running = Atomic<Int>(0)

  init() {}

  /// Calls of this address running now.
  var count: Int { running.load(ordering: .relaxed) }

  func started() { running.add(1, ordering: .relaxed) }

  func ended() { running.subtract(1, ordering: .relaxed) }
}
