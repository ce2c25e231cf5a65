import GuestAccessCore

/// The outcome of a non-blocking connect and the one waiter for it, as a
/// pure state machine (no locks, no sockets): `ConnectWaiter` keeps it under
/// one lock, so the outcome arriving (connected, failed, timed out,
/// cancelled) and the waiter arriving are each one step, in either order.
///
/// ```
/// connecting --wait--> waiting --resolve--> ended (waiter resumed)
///     |                                       ^
///     +------------resolve--------------------+ (a later wait resumes at once)
/// ```
struct ConnectState<Waiter> {
  private enum Phase {
    case connecting
    case waiting(Waiter)
    case ended(RPCError?)
  }

  /// What `resolve` asks of its caller.
  enum Resolution {
    /// The connect had already ended: nothing to do.
    case alreadyEnded
    /// Resume this waiter with the outcome.
    case resume(Waiter)
    /// No waiter yet: the outcome waits for it.
    case recorded
  }

  private var phase = Phase.connecting

  /// The waiter arrives; returns the outcome to resume it with at once when
  /// the connect has already ended (`.success` for connected), else nil (it waits).
  mutating func wait(_ waiter: Waiter) -> Result<Void, RPCError>? {
    switch phase {
    case .connecting:
      phase = .waiting(waiter)
      return nil
    case .waiting:
      preconditionFailure("a connect has one waiter")
    case .ended(let error):
      return error.map { .failure($0) } ?? .success(())
    }
  }

  /// The connect ended: connected (`nil`) or `error`. Only the first outcome counts.
  mutating func resolve(_ error: RPCError?) -> Resolution {
    switch phase {
    case .connecting:
      phase = .ended(error)
      return .recorded
    case .waiting(let waiter):
      phase = .ended(error)
      return .resume(waiter)
    case .ended:
      return .alreadyEnded
    }
  }
}
