/// The type byte of a frame (docs/PROTOCOL.md §3).
public enum FrameType: UInt8, Sendable, CaseIterable {
  /// Opens a call: `CallHeaders` payload. Client to server.
  case headers = 0x01
  /// One encoded message of a call. Both directions.
  case message = 0x02
  /// Ends a call with its status: `Trailers` payload. Server to client.
  case trailers = 0x03
  /// Cancels a call; empty payload. Client to server.
  case cancel = 0x04
  /// Keepalive ping or pong (flag ACK); 8-byte opaque payload, call id 0.
  case ping = 0x05
  /// Graceful shutdown: `GoAway` payload, call id 0. Server to client.
  case goAway = 0x06
}

/// Flag bits of a frame.
public struct FrameFlags: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// On MESSAGE from the client: the last request message (half-close).
  public static let endStream = FrameFlags(rawValue: 0x01)
  /// On PING: this is the answer to a ping.
  public static let ack = FrameFlags(rawValue: 0x01)
}
