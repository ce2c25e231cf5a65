/// What the parser found next in the byte stream.
public enum FrameEvent: Sendable, Hashable {
  /// A complete frame.
  case frame(Frame)
  /// A frame whose payload exceeded the limit; its payload is being skipped
  /// without buffering, and the connection stays usable.
  case oversized(FrameHeader)
}

/// A frame as the parser sees it, its payload in place: valid only inside
/// the `FrameParser.parseViews` callback that receives it.
public enum FrameView {
  /// A complete frame and its payload bytes.
  case frame(FrameHeader, UnsafeRawBufferPointer)
  /// A frame whose payload exceeded the limit and is being skipped.
  case oversized(FrameHeader)

  /// The event, its payload copied out.
  public var event: FrameEvent {
    switch self {
    case .frame(let header, let payload): .frame(Frame(header: header, payload: Array(payload)))
    case .oversized(let header): .oversized(header)
    }
  }
}
