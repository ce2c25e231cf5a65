/// Hand-rolled pieces of the protobuf wire format, for building and taking
/// apart test inputs independently of the codec under test.
enum WireFormat {
  /// Wire type 0: varint.
  static let varint: UInt8 = 0
  /// Wire type 1: 8 little-endian bytes.
  static let fixed64: UInt8 = 1
  /// Wire type 2: varint length, then that many bytes.
  static let lengthDelimited: UInt8 = 2
  /// Wire type 5: 4 little-endian bytes.
  static let fixed32: UInt8 = 5

  /// One top-level field of a message.
  struct Field {
    /// The field number.
    var number: UInt64
    /// The wire type (low 3 bits of the tag).
    var wireType: UInt8
    /// Where the whole field (tag included) lies in the input.
    var range: Range<Int>
    /// Where the value lies; for wire type 2, the payload after the length.
    var value: Range<Int>
  }

  /// The varint encoding of `value`.
  static func varint(_ value: UInt64) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    while value >= 0x80 {
      out.append(UInt8(value & 0x7F) | 0x80)
      value >>= 7
    }
    out.append(UInt8(value))
    return out
  }

  /// The tag of field `number` with `wireType`.
  static func tag(_ number: UInt64, _ wireType: UInt8) -> [UInt8] {
    varint(number << 3 | UInt64(wireType))
  }

  /// A length-delimited field holding `payload`.
  static func lengthDelimited(_ number: UInt64, _ payload: [UInt8]) -> [UInt8] {
    tag(number, lengthDelimited) + varint(UInt64(payload.count)) + payload
  }

  /// Reads a varint at `position`, advancing it; nil if truncated or over 10 bytes.
  static func readVarint(_ bytes: [UInt8], _ position: inout Int) -> UInt64? {
    var result: UInt64 = 0
    for shift in stride(from: 0, to: 70, by: 7) {
      guard position < bytes.count else { return nil }
      let byte = bytes[position]
      position += 1
      result |= UInt64(byte & 0x7F) << UInt64(shift)
      if byte & 0x80 == 0 { return result }
    }
    return nil
  }

  /// The top-level fields of `bytes`, or nil if they are not well-formed
  /// (groups are not supported).
  static func fields(_ bytes: [UInt8]) -> [Field]? {
    var fields: [Field] = []
    var position = 0
    while position < bytes.count {
      let start = position
      guard let key = readVarint(bytes, &position) else { return nil }
      let wireType = UInt8(key & 7)
      let valueStart: Int
      switch wireType {
      case varint:
        valueStart = position
        guard readVarint(bytes, &position) != nil else { return nil }
      case fixed64, fixed32:
        valueStart = position
        position += wireType == fixed64 ? 8 : 4
      case lengthDelimited:
        guard let length = readVarint(bytes, &position), length <= UInt64(bytes.count - position) else { return nil }
        valueStart = position
        position += Int(length)
      default:
        return nil
      }
      guard position <= bytes.count else { return nil }
      fields.append(Field(number: key >> 3, wireType: wireType, range: start..<position, value: valueStart..<position))
    }
    return fields
  }
}
