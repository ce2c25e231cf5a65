import Synchronization

/// Set when a response stream's consumer went away before its call started
/// (the call is then not started, or cancelled at once).
final class TerminationFlag: Sendable {
  private let value = Atomic<Bool>(false)

  /// Whether the consumer went away.
  var isSet: Bool { value.load(ordering: .acquiring) }

  /// Records that the consumer went away.
  func set() { value.store(true, ordering: .releasing) }
}
