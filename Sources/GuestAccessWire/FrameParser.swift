/// Incremental frame parser: feed bytes as they arrive and receive events.
///
/// Complete frames are parsed straight out of the caller's bytes; only an
/// incomplete tail is copied into the parser, so an idle connection holds no
/// buffer. It never buffers more than one frame of at most `maxPayload` bytes:
/// longer frames are reported as `.oversized` and their payload is skipped.
public struct FrameParser: Sendable {
  /// Largest payload kept; longer frames are reported as `.oversized` and skipped.
  public var maxPayload: Int
  private var buffer: [UInt8] = []
  private var start = 0
  private var skipRemaining = 0
  /// Buffer capacity kept between frames; a larger buffer is freed once empty.
  static let retainedCapacity = 4096

  /// Creates a parser.
  public init(maxPayload: Int) {
    self.maxPayload = maxPayload
  }

  /// Bytes held but not yet consumed.
  public var bufferedBytes: Int { buffer.count - start }

  /// Bytes of an oversized payload still to be skipped.
  public var skippingBytes: Int { skipRemaining }

  /// Capacity of the internal buffer (for memory accounting in tests).
  public var bufferCapacity: Int { buffer.capacity }

  /// Whether a frame has started but is not complete (used for read timeouts).
  public var isMidFrame: Bool { bufferedBytes > 0 || skipRemaining > 0 }

  /// Parses `bytes`, calling `body` for each event in order; an incomplete
  /// frame at the end is kept for the next call.
  /// - Throws: the first `ProtocolViolation` found, or what `body` throws.
  public mutating func parse(
    _ bytes: UnsafeRawBufferPointer, _ body: (FrameEvent) throws(ProtocolViolation) -> Void
  ) throws(ProtocolViolation) {
    try parseViews(bytes) { view throws(ProtocolViolation) in try body(view.event) }
  }

  /// Parses `bytes` like `parse`, without copying payloads: `body` sees each
  /// frame's payload in place (in `bytes`, or in the parser's buffer for a
  /// frame that spanned reads), valid only during the call. The per-frame
  /// path of a connection that only looks at its frames (a load generator's
  /// pipeline) allocates nothing.
  /// - Throws: the first `ProtocolViolation` found, or what `body` throws.
  public mutating func parseViews(
    _ bytes: UnsafeRawBufferPointer, _ body: (FrameView) throws(ProtocolViolation) -> Void
  ) throws(ProtocolViolation) {
    var bytes = skip(bytes)
    if bufferedBytes > 0 {
      // Finish the buffered frame first; what follows it is parsed in place.
      while bufferedBytes > 0 && !bytes.isEmpty {
        let wanted = bytesNeededForBufferedFrame()
        let taken = min(wanted, bytes.count)
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<taken]))
        bytes = UnsafeRawBufferPointer(rebasing: bytes[taken...])
        while try nextView(body) {}
        bytes = skip(bytes)
      }
      if bufferedBytes > 0 { return }
    }
    var offset = 0
    while bytes.count - offset >= FrameHeader.size {
      let header = try Self.header(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + FrameHeader.size]))
      let length = Int(header.length)
      let available = bytes.count - offset - FrameHeader.size
      if length > maxPayload {
        let skipped = min(length, available)
        offset += FrameHeader.size + skipped
        skipRemaining = length - skipped
        try body(.oversized(header))
        continue
      }
      guard available >= length else { break }
      let payloadStart = offset + FrameHeader.size
      offset = payloadStart + length
      try body(.frame(header, UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<offset])))
    }
    if offset < bytes.count {
      append(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
    }
  }

  /// Adds received bytes (to be taken with `next()`).
  public mutating func append(_ bytes: UnsafeRawBufferPointer) {
    let bytes = skip(bytes)
    guard !bytes.isEmpty else { return }
    if start > 0 && start == buffer.count {
      buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacity)
      start = 0
    } else if start > 65536 && start * 2 > buffer.count {
      buffer.removeSubrange(0..<start)
      start = 0
    }
    buffer.append(contentsOf: bytes)
  }

  /// Adds received bytes (to be taken with `next()`).
  public mutating func append(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append($0) }
  }

  /// The next event from the appended bytes, or `nil` when more bytes are needed.
  public mutating func next() throws(ProtocolViolation) -> FrameEvent? {
    var event: FrameEvent?
    _ = try nextView { view in event = view.event }
    return event
  }

  /// Hands the next event from the buffer to `body`, the payload in place;
  /// false when more bytes are needed.
  private mutating func nextView(_ body: (FrameView) throws(ProtocolViolation) -> Void) throws(ProtocolViolation) -> Bool {
    guard buffer.count - start >= FrameHeader.size else { return false }
    let decoded = buffer.withUnsafeBytes { raw in
      Result { () throws(ProtocolViolation) in try Self.header(UnsafeRawBufferPointer(rebasing: raw[start..<start + FrameHeader.size])) }
    }
    let header = try decoded.get()
    let length = Int(header.length)
    if length > maxPayload {
      start += FrameHeader.size
      let available = min(length, buffer.count - start)
      start += available
      skipRemaining = length - available
      compact()
      try body(.oversized(header))
      return true
    }
    guard buffer.count - start - FrameHeader.size >= length else { return false }
    let payloadStart = start + FrameHeader.size
    start = payloadStart + length
    // The payload is read in place, then the buffer is compacted.
    let handled = buffer.withUnsafeBytes { raw in
      Result { () throws(ProtocolViolation) in
        try body(.frame(header, UnsafeRawBufferPointer(rebasing: raw[payloadStart..<payloadStart + length])))
      }
    }
    compact()
    try handled.get()
    return true
  }

  private static func header(_ bytes: UnsafeRawBufferPointer) throws(ProtocolViolation) -> FrameHeader {
    guard let header = FrameHeader.decode(bytes) else { throw ProtocolViolation("reserved header bytes are not zero") }
    guard header.frameType != nil else { throw ProtocolViolation("unknown frame type \(header.type)") }
    return header
  }

  /// Drops the part of `bytes` that belongs to an oversized payload being skipped.
  private mutating func skip(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
    guard skipRemaining > 0 else { return bytes }
    let skipped = min(skipRemaining, bytes.count)
    skipRemaining -= skipped
    return UnsafeRawBufferPointer(rebasing: bytes[skipped...])
  }

  /// How many more bytes the buffered frame needs (its header first).
  private func bytesNeededForBufferedFrame() -> Int {
    let held = buffer.count - start
    guard held >= FrameHeader.size else { return FrameHeader.size - held }
    let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
    guard length <= maxPayload else { return 0 }  // `next()` skips it
    return max(0, length + FrameHeader.size - held)
  }

  private mutating func compact() {
    if start == buffer.count {
      buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacity)
      start = 0
    }
  }
}
