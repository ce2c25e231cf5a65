/// The connection preface each side sends first: the magic `GARP`, the
/// protocol version, and three zero bytes (docs/PROTOCOL.md §2).
public enum Preface {
  /// The protocol version this implementation speaks.
  public static let version: UInt8 = 1
  /// Length of the preface.
  public static let size = 8
  /// The preface bytes.
  public static let bytes: [UInt8] = [0x47, 0x41, 0x52, 0x50, version, 0, 0, 0]

  /// Checks a received preface.
  public static func validate(_ bytes: some Collection<UInt8>) throws(ProtocolViolation) {
    let bytes = Array(bytes)
    guard bytes.count == size, bytes[0..<4] == [0x47, 0x41, 0x52, 0x50] else {
      throw ProtocolViolation("bad connection preface")
    }
    guard bytes[4] == version else {
      throw ProtocolViolation("unsupported protocol version \(bytes[4])")
    }
    guard bytes[5] == 0, bytes[6] == 0, bytes[7] == 0 else {
      throw ProtocolViolation("non-zero reserved bytes in the connection preface")
    }
  }
}
