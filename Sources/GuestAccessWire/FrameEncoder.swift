import GuestAccessProto

/// Appends frames to an output buffer.
public enum FrameEncoder {
  /// Appends a frame with a raw payload.
  public static func append(
    _ type: FrameType, flags: FrameFlags = [], callID: UInt32, payload: some Collection<UInt8>, to buffer: inout [UInt8]
  ) {
    FrameHeader(length: UInt32(payload.count), type: type, flags: flags, callID: callID).encode(into: &buffer)
    buffer.append(contentsOf: payload)
  }

  /// Appends a frame whose payload is a protobuf message, encoded in place.
  public static func append(
    _ type: FrameType, flags: FrameFlags = [], callID: UInt32, message: some ProtoMessage, to buffer: inout [UInt8]
  ) {
    let headerStart = buffer.count
    FrameHeader(length: 0, type: type, flags: flags, callID: callID).encode(into: &buffer)
    message.serialize(into: &buffer)
    let length = UInt32(buffer.count - headerStart - FrameHeader.size)
    buffer[headerStart] = UInt8(truncatingIfNeeded: length >> 24)
    buffer[headerStart + 1] = UInt8(truncatingIfNeeded: length >> 16)
    buffer[headerStart + 2] = UInt8(truncatingIfNeeded: length >> 8)
    buffer[headerStart + 3] = UInt8(truncatingIfNeeded: length)
  }
}
