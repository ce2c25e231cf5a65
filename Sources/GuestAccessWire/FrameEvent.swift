/// What the parser found next in the byte stream.
public enum FrameEvent: Sendable, Hashable {
  /// A complete frame.
  case frame(Frame)
  /// A frame whose payload exceeded the limit; its payload is being skipped
  /// without buffering, and the connection stays usable.
  case oversized(FrameHeader)
}
