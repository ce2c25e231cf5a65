/// Produces random and mutated protobuf buffers from a corpus of valid
/// encodings: random bytes, truncations, bit flips, valid prefixes with
/// garbage, huge length prefixes, wrong wire types, overlong varints,
/// random field soups and splices.
struct BufferMutator {
  /// Valid encodings of the message under test (full sample, default, ...).
  let own: [[UInt8]]
  /// Valid encodings of other message types.
  let others: [[UInt8]]
  /// The deterministic source of randomness.
  var random: SeededGenerator

  /// The number of distinct mutation strategies `next()` chooses from.
  static let strategyCount = 13

  /// The next input to feed a decoder.
  mutating func next() -> [UInt8] {
    let strategy = Int.random(in: 0..<Self.strategyCount, using: &random)
    let valid = own.randomElement(using: &random)!
    switch strategy {
    case 0: return randomBytes(Int.random(in: 0...64, using: &random))
    case 1: return randomBytes(Int.random(in: 65...600, using: &random))
    case 2: return Array(valid.prefix(Int.random(in: 0...valid.count, using: &random)))
    case 3: return flipBits(valid)
    case 4: return Array(valid.prefix(Int.random(in: 0...valid.count, using: &random))) + randomBytes(Int.random(in: 1...32, using: &random))
    case 5: return hugeLengthPrefix(valid)
    case 6: return wrongWireType(valid)
    case 7: return overlongVarint(valid)
    case 8: return fieldSoup()
    case 9: return splice(valid, others.randomElement(using: &random)!)
    case 10: return overwriteBytes(valid)
    case 11: return insertOrDelete(valid)
    default: return valid + valid  // merging two copies is valid protobuf
    }
  }

  private mutating func randomBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
  }

  private mutating func randomPosition(in bytes: [UInt8]) -> Int {
    Int.random(in: 0...bytes.count, using: &random)
  }

  private mutating func flipBits(_ bytes: [UInt8]) -> [UInt8] {
    guard !bytes.isEmpty else { return [0x80] }
    var bytes = bytes
    for _ in 0..<Int.random(in: 1...8, using: &random) {
      bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1 << UInt8.random(in: 0...7, using: &random)
    }
    return bytes
  }

  private mutating func hugeLengthPrefix(_ valid: [UInt8]) -> [UInt8] {
    let lengths: [UInt64] = [
      UInt64(valid.count) + 1, 1 << 20, UInt64(Int32.max), 1 << 31, UInt64(UInt32.max), 1 << 32,
      1 << 62, 1 << 63, UInt64(Int64.max), .max,
    ]
    let number = UInt64.random(in: 1...55, using: &random)
    let prefix = Array(valid.prefix(randomPosition(in: valid)))
    let field = WireFormat.tag(number, WireFormat.lengthDelimited) + WireFormat.varint(lengths.randomElement(using: &random)!)
    return prefix + field + randomBytes(Int.random(in: 0...16, using: &random))
  }

  private mutating func wrongWireType(_ valid: [UInt8]) -> [UInt8] {
    guard let fields = WireFormat.fields(valid), let field = fields.randomElement(using: &random) else {
      return WireFormat.tag(UInt64.random(in: 1...20, using: &random), UInt8.random(in: 0...7, using: &random)) + valid
    }
    var wireType = UInt8.random(in: 0...7, using: &random)
    if wireType == field.wireType { wireType = (wireType + 1) & 7 }
    // The rest of the field (a length prefix included) stays as it was.
    let afterTag = field.range.lowerBound + WireFormat.tag(field.number, field.wireType).count
    return Array(valid[..<field.range.lowerBound]) + WireFormat.tag(field.number, wireType) + Array(valid[afterTag...])
  }

  private mutating func overlongVarint(_ valid: [UInt8]) -> [UInt8] {
    let prefix = Array(valid.prefix(randomPosition(in: valid)))
    let run = [UInt8](repeating: 0xFF, count: Int.random(in: 9...16, using: &random))
    if Bool.random(using: &random) {
      return prefix + run + [0x01]  // an overlong tag
    }
    let number = UInt64.random(in: 1...55, using: &random)
    return prefix + WireFormat.tag(number, WireFormat.varint) + run + (Bool.random(using: &random) ? [0x01] : [])
  }

  private mutating func fieldSoup() -> [UInt8] {
    var out: [UInt8] = []
    for _ in 0..<Int.random(in: 1...8, using: &random) {
      let number = UInt64.random(in: 0...55, using: &random)
      let wireType = UInt8.random(in: 0...7, using: &random)
      out += WireFormat.tag(number, wireType)
      switch wireType {
      case WireFormat.varint: out += WireFormat.varint(random.next() >> UInt64.random(in: 0...63, using: &random))
      case WireFormat.fixed64: out += randomBytes(8)
      case WireFormat.fixed32: out += randomBytes(4)
      case WireFormat.lengthDelimited:
        let payload = Bool.random(using: &random) ? randomBytes(Int.random(in: 0...24, using: &random)) : (others.randomElement(using: &random) ?? [])
        out += WireFormat.varint(UInt64(payload.count)) + payload
      default: out += randomBytes(Int.random(in: 0...4, using: &random))
      }
    }
    return out
  }

  private mutating func splice(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    Array(a.prefix(randomPosition(in: a))) + Array(b.dropFirst(randomPosition(in: b)))
  }

  private mutating func overwriteBytes(_ bytes: [UInt8]) -> [UInt8] {
    guard !bytes.isEmpty else { return [0xFF] }
    var bytes = bytes
    let interesting: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x12, 0x08]
    for _ in 0..<Int.random(in: 1...4, using: &random) {
      bytes[Int.random(in: 0..<bytes.count, using: &random)] = interesting.randomElement(using: &random)!
    }
    return bytes
  }

  private mutating func insertOrDelete(_ bytes: [UInt8]) -> [UInt8] {
    var bytes = bytes
    let position = randomPosition(in: bytes)
    if Bool.random(using: &random) || bytes.isEmpty {
      bytes.insert(contentsOf: randomBytes(Int.random(in: 1...8, using: &random)), at: position)
    } else {
      let end = min(bytes.count, position + Int.random(in: 1...8, using: &random))
      bytes.removeSubrange(min(position, end)..<end)
    }
    return bytes
  }
}
