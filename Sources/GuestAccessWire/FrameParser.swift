/// A frame read off a connection.
public struct Frame: Sendable, Hashable {
  /// The header.
  public var header: FrameHeader
  /// The payload (empty when it was skipped as oversized).
  public var payload: [UInt8]

  /// Creates a frame.
  public init(header: FrameHeader, payload: [UInt8]) {
    self.header = header
    self.payload = payload
  }
}

/// What the parser found next in the byte stream.
public enum FrameEvent: Sendable, Hashable {
  /// A complete frame.
  case frame(Frame)
  /// A frame whose payload exceeded the limit; its payload is being skipped
  /// without buffering, and the connection stays usable.
  case oversized(FrameHeader)
}

/// Incremental frame parser: append bytes as they arrive, then take events.
/// It never buffers more than one frame of at most `maxPayload` bytes.
public struct FrameParser: Sendable {
  /// Largest payload kept; longer frames are reported as `.oversized` and skipped.
  public var maxPayload: Int
  private var buffer: [UInt8] = []
  private var start = 0
  private var skipRemaining = 0

  /// Creates a parser.
  public init(maxPayload: Int) {
    self.maxPayload = maxPayload
  }

  /// Bytes held but not yet consumed.
  public var bufferedBytes: Int { buffer.count - start }

  /// Whether a frame has started but is not complete (used for read timeouts).
  public var isMidFrame: Bool { bufferedBytes > 0 || skipRemaining > 0 }

  /// Adds received bytes.
  public mutating func append(_ bytes: UnsafeRawBufferPointer) {
    var bytes = bytes
    if skipRemaining > 0 {
      let skipped = min(skipRemaining, bytes.count)
      skipRemaining -= skipped
      bytes = UnsafeRawBufferPointer(rebasing: bytes[skipped...])
    }
    guard !bytes.isEmpty else { return }
    if start > 0 && start == buffer.count {
      buffer.removeAll(keepingCapacity: true)
      start = 0
    } else if start > 65536 && start * 2 > buffer.count {
      buffer.removeSubrange(0..<start)
      start = 0
    }
    buffer.append(contentsOf: bytes)
  }

  /// Adds received bytes.
  public mutating func append(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append($0) }
  }

  /// The next event, or `nil` when more bytes are needed.
  public mutating func next() throws(ProtocolViolation) -> FrameEvent? {
    guard buffer.count - start >= FrameHeader.size else { return nil }
    let decoded = buffer.withUnsafeBytes { raw in
      FrameHeader.decode(UnsafeRawBufferPointer(rebasing: raw[start..<start + FrameHeader.size]))
    }
    guard let header = decoded else { throw ProtocolViolation("reserved header bytes are not zero") }
    guard header.frameType != nil else { throw ProtocolViolation("unknown frame type \(header.type)") }
    let length = Int(header.length)
    if length > maxPayload {
      start += FrameHeader.size
      let available = min(length, buffer.count - start)
      start += available
      skipRemaining = length - available
      if start == buffer.count {
        buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
        start = 0
      }
      return .oversized(header)
    }
    guard buffer.count - start - FrameHeader.size >= length else { return nil }
    let payloadStart = start + FrameHeader.size
    let payload = Array(buffer[payloadStart..<payloadStart + length])
    start = payloadStart + length
    if start == buffer.count {
      buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
      start = 0
    }
    return .frame(Frame(header: header, payload: payload))
  }
}
