/// A socket watched by an event loop for a module outside the transport (the
/// web listener): the loop calls `handleEvents` on its thread with the epoll bits.
public protocol EventLoopSocketHandler: AnyObject {
  /// Called on the loop thread with the epoll event bits.
  func handleEvents(_ events: UInt32)
}

/// A timer set with `EventLoop.scheduleTimer`; cancelling it from any thread
/// stops its action from running.
public struct EventLoopTimer: Sendable {
  fileprivate let timer: LoopTimer

  /// Stops the timer if it has not run yet.
  public func cancel() { timer.cancel() }
}

private final class SocketHandlerAdapter: EventLoopHandler {
  let target: EventLoopSocketHandler
  init(_ target: EventLoopSocketHandler) { self.target = target }
  func handleEvents(_ events: UInt32) { target.handleEvents(events) }
}

extension EventLoop {
  /// Registers `handler` for readiness events of `fd`; nil when epoll
  /// refuses it. Keep the registration: it changes and ends the watch.
  /// Loop thread only.
  public func registerSocket(fd: Int32, events: UInt32, handler: EventLoopSocketHandler) -> EventLoopRegistration? {
    register(fd: fd, events: events, handler: SocketHandlerAdapter(handler))
  }

  /// Changes the interest of a registered socket. Any thread.
  public func modifySocket(_ registration: EventLoopRegistration, events: UInt32) {
    modify(registration, events: events)
  }

  /// Ends a registration (before the caller closes the socket). Loop thread only.
  public func deregisterSocket(_ registration: EventLoopRegistration) {
    deregister(registration)
  }

  /// Runs `action` on the loop thread after `delay` unless the timer is cancelled first. Any thread.
  public func scheduleTimer(after delay: Duration, _ action: @escaping () -> Void) -> EventLoopTimer {
    EventLoopTimer(timer: schedule(at: .now + delay, action))
  }

  /// Runs `body` on the loop thread (for loop-owned state that is not `Sendable`).
  public func executeOnLoop(_ body: @escaping () -> Void) {
    executeUnchecked(body)
  }
}
