/// The server connections of one event loop; touched only on that loop's thread.
final class LoopConnections: @unchecked Sendable {
  let loop: EventLoop
  var connections: [ObjectIdentifier: ServerConnection] = [:]

  init(loop: EventLoop) {
    self.loop = loop
  }
}
