import Synchronization

/// A one-shot timer on an event loop (a call's deadline): it runs its action
/// on the loop thread when due, unless cancelled first. Scheduling and
/// cancelling cost a heap insertion or removal on the loop thread; from
/// another thread they are handed to the loop.
final class LoopTimer: @unchecked Sendable {
  private let cancelled = Atomic<Bool>(false)
  /// When it is due, in `EventLoop.now()` nanoseconds.
  let due: UInt64
  /// Loop-thread state: the action (nil once run or cancelled) and the heap slot.
  fileprivate(set) var action: (() -> Void)?
  fileprivate(set) var heapIndex = -1
  private let loop: EventLoop

  init(loop: EventLoop, due: UInt64, action: @escaping () -> Void) {
    self.loop = loop
    self.due = due
    self.action = action
  }

  /// Whether `cancel()` was called.
  var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

  /// Stops the timer if it has not run yet. Any thread; from another thread
  /// the heap entry is removed whenever the loop next wakes (it does not wake
  /// the loop for that), and the action no longer runs in any case.
  func cancel() {
    cancelled.store(true, ordering: .releasing)
    if loop.inEventLoop {
      loop.removeTimer(self)
    } else {
      loop.executeLazily { [self] in loop.removeTimer(self) }
    }
  }
}

/// A binary min-heap of timers by due time; each timer knows its slot, so a
/// cancelled timer leaves at once instead of lingering until due. Loop thread only.
struct TimerHeap {
  private var items: [LoopTimer] = []

  var isEmpty: Bool { items.isEmpty }
  var count: Int { items.count }
  /// The earliest due time.
  var nextDue: UInt64? { items.first?.due }

  mutating func insert(_ timer: LoopTimer) {
    timer.heapIndex = items.count
    items.append(timer)
    siftUp(items.count - 1)
  }

  /// Removes `timer` (if it is in the heap) and drops its action, so a timer
  /// cancelled before its insertion never runs either.
  mutating func remove(_ timer: LoopTimer) {
    timer.action = nil
    let index = timer.heapIndex
    guard index >= 0, index < items.count, items[index] === timer else { return }
    timer.heapIndex = -1
    let last = items.removeLast()
    guard index < items.count else { return }
    items[index] = last
    last.heapIndex = index
    siftDown(index)
    siftUp(index)
  }

  /// Removes and returns the actions of every timer due at `now`.
  mutating func popDue(now: UInt64) -> [() -> Void] {
    var due: [() -> Void] = []
    while let first = items.first, first.due <= now {
      let action = first.action
      remove(first)
      if let action, !first.isCancelled { due.append(action) }
    }
    return due
  }

  private mutating func siftUp(_ start: Int) {
    var index = start
    while index > 0 {
      let parent = (index - 1) / 2
      guard items[index].due < items[parent].due else { return }
      swapAt(index, parent)
      index = parent
    }
  }

  private mutating func siftDown(_ start: Int) {
    var index = start
    while true {
      let left = 2 * index + 1
      let right = left + 1
      var smallest = index
      if left < items.count && items[left].due < items[smallest].due { smallest = left }
      if right < items.count && items[right].due < items[smallest].due { smallest = right }
      guard smallest != index else { return }
      swapAt(index, smallest)
      index = smallest
    }
  }

  private mutating func swapAt(_ a: Int, _ b: Int) {
    items.swapAt(a, b)
    items[a].heapIndex = a
    items[b].heapIndex = b
  }
}
