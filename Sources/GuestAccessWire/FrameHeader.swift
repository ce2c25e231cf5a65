/// The fixed 12-byte header in front of every frame:
/// `length:u32be | type:u8 | flags:u8 | reserved:u16 (0) | call_id:u32be`.
public struct FrameHeader: Hashable, Sendable {
  /// Size of the encoded header.
  public static let size = 12

  /// Payload length in bytes (the header excluded).
  public var length: UInt32
  /// The raw frame type.
  public var type: UInt8
  /// The flag bits.
  public var flags: FrameFlags
  /// The call the frame belongs to; 0 for connection frames.
  public var callID: UInt32

  /// Creates a header.
  public init(length: UInt32, type: FrameType, flags: FrameFlags = [], callID: UInt32) {
    self.init(length: length, rawType: type.rawValue, flags: flags, callID: callID)
  }

  /// Creates a header with a raw type byte (for tests of unknown types).
  public init(length: UInt32, rawType: UInt8, flags: FrameFlags, callID: UInt32) {
    self.length = length
    self.type = rawType
    self.flags = flags
    self.callID = callID
  }

  /// The known frame type, if the type byte is one.
  public var frameType: FrameType? { FrameType(rawValue: type) }

  /// Appends the 12 header bytes to `buffer`.
  public func encode(into buffer: inout [UInt8]) {
    buffer.append(UInt8(truncatingIfNeeded: length >> 24))
    buffer.append(UInt8(truncatingIfNeeded: length >> 16))
    buffer.append(UInt8(truncatingIfNeeded: length >> 8))
    buffer.append(UInt8(truncatingIfNeeded: length))
    buffer.append(type)
    buffer.append(flags.rawValue)
    buffer.append(0)
    buffer.append(0)
    buffer.append(UInt8(truncatingIfNeeded: callID >> 24))
    buffer.append(UInt8(truncatingIfNeeded: callID >> 16))
    buffer.append(UInt8(truncatingIfNeeded: callID >> 8))
    buffer.append(UInt8(truncatingIfNeeded: callID))
  }

  /// Reads a header from exactly 12 bytes; `nil` when the reserved bytes are not zero.
  public static func decode(_ bytes: UnsafeRawBufferPointer) -> FrameHeader? {
    precondition(bytes.count >= size)
    guard bytes[6] == 0, bytes[7] == 0 else { return nil }
    let length = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
    let callID = UInt32(bytes[8]) << 24 | UInt32(bytes[9]) << 16 | UInt32(bytes[10]) << 8 | UInt32(bytes[11])
    return FrameHeader(length: length, rawType: bytes[4], flags: FrameFlags(rawValue: bytes[5]), callID: callID)
  }
}
