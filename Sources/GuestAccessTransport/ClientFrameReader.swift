import GuestAccessCore
import GuestAccessProto
import GuestAccessWire

/// The reading side of a client connection: the server's preface, then its
/// frames, read off the socket into the loop's shared buffer and handed over
/// in place. Every client connection reads this way (`ClientConnection`,
/// `PipelineConnection`). Loop thread only.
struct ClientFrameReader {
  private var parser = FrameParser(maxPayload: 64 << 20)
  private var prefaceBytes: [UInt8] = []
  /// Whether the server's preface has arrived (the server has spoken).
  private(set) var prefaceDone = false

  /// Reads what `channel` has now (at most four buffers full, so one busy
  /// connection does not starve the loop's others) and hands each frame to
  /// `body`, its payload valid only during the call. Returns why the
  /// connection ended (closed by the server, a broken TLS session, a
  /// protocol violation by the server or thrown by `body`), or nil when it
  /// goes on.
  mutating func read(
    _ channel: SocketChannel, target: String, _ body: (FrameView) throws(ProtocolViolation) -> Void
  ) -> TransportError? {
    let readBuffer = channel.loop.readBuffer
    for _ in 0..<4 {
      let received = channel.receive(readBuffer)
      if received == -1 { return nil }
      if received <= 0 {
        let reason = channel.tlsFailure.map { ": \($0)" } ?? ""
        return .connectionLost(reason: "connection to \(target) closed by the server\(reason)")
      }
      do {
        try consume(UnsafeRawBufferPointer(rebasing: readBuffer[0..<received]), body)
      } catch {
        return .protocolViolation("\(error)")
      }
      if received < readBuffer.count { break }
    }
    return nil
  }

  /// The error a TRAILERS payload carries (nil: OK, also for an empty
  /// payload); undecodable trailers break the connection.
  static func trailersError(_ payload: UnsafeRawBufferPointer) throws(ProtocolViolation) -> RPCError? {
    guard !payload.isEmpty else { return nil }
    guard let trailers = try? Trailers(serializedBytes: payload) else { throw ProtocolViolation("undecodable trailers") }
    return RPCError(trailers: trailers)
  }

  /// A GOAWAY payload; an undecodable one reads as a GOAWAY with no last call and no message.
  static func goAway(_ payload: UnsafeRawBufferPointer) -> GoAway {
    (try? GoAway(serializedBytes: payload)) ?? GoAway()
  }

  private mutating func consume(
    _ bytes: UnsafeRawBufferPointer, _ body: (FrameView) throws(ProtocolViolation) -> Void
  ) throws(ProtocolViolation) {
    var bytes = bytes
    if !prefaceDone {
      let needed = Preface.size - prefaceBytes.count
      prefaceBytes.append(contentsOf: bytes.prefix(needed))
      bytes = UnsafeRawBufferPointer(rebasing: bytes[min(needed, bytes.count)...])
      guard prefaceBytes.count == Preface.size else { return }
      try Preface.validate(prefaceBytes)
      prefaceDone = true
      prefaceBytes = []
    }
    guard !bytes.isEmpty else { return }
    try parser.parseViews(bytes, body)
  }
}
