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
