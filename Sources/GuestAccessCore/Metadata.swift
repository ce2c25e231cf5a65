import GuestAccessProto

/// Call metadata (gRPC headers): an ordered list of key/value pairs where a
/// key may repeat. Keys are lower-case; keys ending in `-bin` hold bytes.
public struct Metadata: Hashable, Sendable, ExpressibleByDictionaryLiteral, Sequence {
  /// One value: text for ordinary keys, bytes for `-bin` keys.
  public enum Payload: Hashable, Sendable {
    /// A printable-ASCII value.
    case string(String)
    /// A binary value (key ends in `-bin`).
    case binary([UInt8])
  }

  private var storage: [(key: String, value: Payload)]

  /// Empty metadata.
  public init() { storage = [] }

  public typealias Key = String
  public typealias Value = String

  public init(dictionaryLiteral elements: (String, String)...) {
    storage = elements.map { (key: Self.lowercased($0.0), value: .string($0.1)) }
  }

  /// Metadata from wire entries.
  public init(entries: [MetadataEntry]) {
    storage = entries.map { entry in
      (key: entry.key, value: entry.key.hasSuffix("-bin") ? .binary(entry.binaryValue) : .string(entry.value))
    }
  }

  /// The wire entries.
  public var entries: [MetadataEntry] {
    storage.map { item in
      switch item.value {
      case .string(let text): MetadataEntry(key: item.key, value: text)
      case .binary(let bytes): MetadataEntry(key: item.key, binaryValue: bytes)
      }
    }
  }

  /// Number of entries.
  public var count: Int { storage.count }
  /// Whether there are no entries.
  public var isEmpty: Bool { storage.isEmpty }

  /// Appends a text value.
  public mutating func add(_ key: String, _ value: String) {
    storage.append((key: Self.lowercased(key), value: .string(value)))
  }

  /// Appends a binary value; the key should end in `-bin`.
  public mutating func add(_ key: String, binary value: [UInt8]) {
    storage.append((key: Self.lowercased(key), value: .binary(value)))
  }

  /// Replaces every value of `key` with one text value (or removes it for `nil`).
  public mutating func replace(_ key: String, _ value: String?) {
    let key = Self.lowercased(key)
    storage.removeAll { $0.key == key }
    if let value { storage.append((key: key, value: .string(value))) }
  }

  /// Removes every value of `key`.
  public mutating func remove(_ key: String) {
    let key = Self.lowercased(key)
    storage.removeAll { $0.key == key }
  }

  /// The first text value of `key`.
  public subscript(key: String) -> String? {
    let key = Self.lowercased(key)
    for item in storage where item.key == key {
      if case .string(let text) = item.value { return text }
    }
    return nil
  }

  /// Every text value of `key`, in order.
  public func values(_ key: String) -> [String] {
    let key = Self.lowercased(key)
    return storage.compactMap { item in
      guard item.key == key, case .string(let text) = item.value else { return nil }
      return text
    }
  }

  /// `key` in lower case; a key that has no upper-case ASCII letter (every
  /// key the server looks up per call) is returned as it is, without the
  /// Unicode case mapping `lowercased()` runs.
  @inline(__always)
  static func lowercased(_ key: String) -> String {
    key.utf8.contains { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 } ? key.lowercased() : key
  }

  /// Appends every entry of `other`.
  public mutating func merge(_ other: Metadata) {
    storage.append(contentsOf: other.storage)
  }

  public func makeIterator() -> IndexingIterator<[(key: String, value: Payload)]> {
    storage.makeIterator()
  }

  public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
    lhs.storage.elementsEqual(rhs.storage) { $0.key == $1.key && $0.value == $1.value }
  }

  public func hash(into hasher: inout Hasher) {
    for item in storage {
      hasher.combine(item.key)
      hasher.combine(item.value)
    }
  }

  /// Checks keys and values against the protocol's rules (docs/PROTOCOL.md):
  /// keys `[a-z0-9-_.]+`, text values printable ASCII, at most `limit` bytes in total.
  public func validate(limit: Int = 16 * 1024) throws(RPCError) {
    var total = 0
    for item in storage {
      guard !item.key.isEmpty, item.key.utf8.allSatisfy(Self.isKeyByte) else {
        throw RPCError(code: .invalidArgument, message: "invalid metadata key \"\(item.key.prefix(64))\"")
      }
      total += item.key.utf8.count + 32
      switch item.value {
      case .string(let text):
        guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F || $0 == 0x09 }) else {
          throw RPCError(code: .invalidArgument, message: "metadata \(item.key) must be printable ASCII")
        }
        total += text.utf8.count
      case .binary(let bytes):
        total += bytes.count
      }
    }
    guard total <= limit else {
      throw RPCError(code: .resourceExhausted, message: "metadata of \(total) bytes exceeds the limit of \(limit)")
    }
  }

  private static func isKeyByte(_ byte: UInt8) -> Bool {
    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F || byte == 0x2E
  }
}
