import Foundation
import GuestAccessBase64
import GuestAccessJSON
import GuestAccessProto

/// Decodes a request message from JSON the way protobuf's JSON mapping reads
/// it: a field may be named as in the schema (`state_filter`), in lowerCamel
/// (`stateFilter`, the proto JSON name) or as the Swift property
/// (`userID`); omitted fields keep their defaults; 64-bit integers may be
/// strings; enums are names (`GUEST_STATE_ACTIVE`, or without the prefix) or
/// numbers; bytes are base64. A field the message does not have, or a value
/// of the wrong type, is an error naming the field.
public enum ProtoJSONDecoder {
  /// Decodes `type` from `value`.
  /// - Throws: `LoadSetupError.requestDoesNotFit` naming the field at fault.
  public static func decode<Message: Decodable>(_ type: Message.Type, from value: JSONValue) throws -> Message {
    let state = DecodingState()
    let message: Message
    do {
      message = try Message(from: ValueDecoder(value: value, codingPath: [], state: state))
    } catch let error as LoadSetupError {
      throw error
    } catch let error as DecodingError {
      throw LoadSetupError.requestDoesNotFit(message: "\(Message.self)", detail: describe(error))
    }
    for object in state.objects {
      let unknown = object.fields.keys.filter { !object.consumed.contains(normalized($0)) }.sorted()
      if let first = unknown.first {
        let path = object.path.isEmpty ? "" : " (in \(object.path))"
        let known = object.requested.sorted().joined(separator: ", ")
        throw LoadSetupError.requestDoesNotFit(
          message: "\(Message.self)", detail: "no field \"\(first)\"\(path); its fields are: \(known.isEmpty ? "none" : known)")
      }
    }
    return message
  }

  /// Field names compare without case and underscores: `user_id`, `userId` and `userID` are one field.
  static func normalized(_ name: String) -> String {
    String(name.lowercased().unicodeScalars.filter { $0 != "_" })
  }

  /// The schema name of a Swift property name (`userID` → `user_id`).
  static func schemaName(_ swiftName: String) -> String {
    var out = ""
    var previousLower = false
    for character in swiftName {
      if character.isUppercase && previousLower { out.append("_") }
      previousLower = character.isLowercase || character.isNumber
      out.append(contentsOf: character.lowercased())
    }
    return out
  }

  static func path(_ codingPath: [any CodingKey]) -> String {
    codingPath.map { $0.intValue.map { "[\($0)]" } ?? schemaName($0.stringValue) }.joined(separator: ".")
      .replacingOccurrences(of: ".[", with: "[")
  }

  private static func describe(_ error: DecodingError) -> String {
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
      let at = path(context.codingPath)
      return at.isEmpty ? context.debugDescription : "field \(at): \(context.debugDescription)"
    @unknown default:
      return "\(error)"
    }
  }
}

/// What one decode run learns: every JSON object seen, and which of its fields were read.
private final class DecodingState {
  final class Object {
    let fields: [String: JSONValue]
    let path: String
    var consumed: Set<String> = []
    var requested: Set<String> = []
    init(fields: [String: JSONValue], path: String) {
      self.fields = fields
      self.path = path
    }
  }
  var objects: [Object] = []
}

private struct ValueDecoder: Decoder {
  /// The value, or nil when the field was omitted (decodes as the default).
  let value: JSONValue?
  let codingPath: [any CodingKey]
  let state: DecodingState
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    let fields: [String: JSONValue]
    switch value {
    case nil, .null?: fields = [:]
    case .object(let object)?: fields = object
    case let other?: throw mismatch("an object", other)
    }
    let object = DecodingState.Object(fields: fields, path: ProtoJSONDecoder.path(codingPath))
    state.objects.append(object)
    return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath, state: state))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    switch value {
    case nil, .null?: return UnkeyedContainer(items: [], codingPath: codingPath, state: state)
    case .array(let items)?: return UnkeyedContainer(items: items, codingPath: codingPath, state: state)
    case let other?: throw mismatch("a list", other)
    }
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    SingleValue(value: value, codingPath: codingPath, state: state)
  }

  func mismatch(_ expected: String, _ actual: JSONValue) -> DecodingError {
    DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), got \(actual.typeName)"))
  }
}

/// Decodes one (possibly omitted) value: scalars with proto JSON's leniency, anything else through `Decodable`.
private func decodeValue<T: Decodable>(_ type: T.Type, _ value: JSONValue?, _ codingPath: [any CodingKey], _ state: DecodingState) throws -> T {
  let single = SingleValue(value: value, codingPath: codingPath, state: state)
  if T.self == [UInt8].self { return try single.bytes() as! T }
  if T.self == String.self { return try single.decode(String.self) as! T }
  if T.self == Bool.self { return try single.decode(Bool.self) as! T }
  if T.self == Int32.self { return try single.decode(Int32.self) as! T }
  if T.self == Int64.self { return try single.decode(Int64.self) as! T }
  if T.self == UInt32.self { return try single.decode(UInt32.self) as! T }
  if T.self == UInt64.self { return try single.decode(UInt64.self) as! T }
  if T.self == Double.self { return try single.decode(Double.self) as! T }
  if T.self == Float.self { return try single.decode(Float.self) as! T }
  return try T(from: ValueDecoder(value: value, codingPath: codingPath, state: state))
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let object: DecodingState.Object
  let codingPath: [any CodingKey]
  let state: DecodingState

  var allKeys: [Key] { object.fields.keys.compactMap { Key(stringValue: $0) } }

  private func lookup(_ key: Key) -> JSONValue? {
    let name = ProtoJSONDecoder.normalized(key.stringValue)
    object.requested.insert(ProtoJSONDecoder.schemaName(key.stringValue))
    object.consumed.insert(name)
    if let exact = object.fields[key.stringValue] { return exact }
    return object.fields.first { ProtoJSONDecoder.normalized($0.key) == name }?.value
  }

  func contains(_ key: Key) -> Bool { true }

  func decodeNil(forKey key: Key) throws -> Bool {
    switch lookup(key) {
    case nil, .null?: true
    default: false
    }
  }

  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
    try decodeValue(type, lookup(key), codingPath + [key], state)
  }

  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeValue(type, lookup(key), codingPath + [key], state) }
  func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeValue(type, lookup(key), codingPath + [key], state) }

  func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
    try ValueDecoder(value: lookup(key), codingPath: codingPath + [key], state: state).container(keyedBy: type)
  }

  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try ValueDecoder(value: lookup(key), codingPath: codingPath + [key], state: state).unkeyedContainer()
  }

  func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(object.fields), codingPath: codingPath, state: state) }

  func superDecoder(forKey key: Key) throws -> any Decoder {
    ValueDecoder(value: lookup(key), codingPath: codingPath + [key], state: state)
  }
}

private struct IndexKey: CodingKey {
  let intValue: Int?
  var stringValue: String { "\(intValue ?? 0)" }
  init(_ index: Int) { intValue = index }
  init?(stringValue: String) { nil }
  init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
  let items: [JSONValue]
  let codingPath: [any CodingKey]
  let state: DecodingState
  var currentIndex = 0

  init(items: [JSONValue], codingPath: [any CodingKey], state: DecodingState) {
    self.items = items
    self.codingPath = codingPath
    self.state = state
  }

  var count: Int? { items.count }
  var isAtEnd: Bool { currentIndex >= items.count }

  private mutating func next() throws -> (JSONValue, [any CodingKey]) {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the list ended"))
    }
    defer { currentIndex += 1 }
    return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
  }

  mutating func decodeNil() throws -> Bool {
    if !isAtEnd, items[currentIndex] == .null {
      currentIndex += 1
      return true
    }
    return false
  }

  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeNext(type) }

  private mutating func decodeNext<T: Decodable>(_ type: T.Type) throws -> T {
    let (value, path) = try next()
    return try decodeValue(type, value, path, state)
  }

  mutating func decode(_ type: Bool.Type) throws -> Bool { try decodeNext(type) }
  mutating func decode(_ type: String.Type) throws -> String { try decodeNext(type) }
  mutating func decode(_ type: Double.Type) throws -> Double { try decodeNext(type) }
  mutating func decode(_ type: Float.Type) throws -> Float { try decodeNext(type) }
  mutating func decode(_ type: Int.Type) throws -> Int { try decodeNext(type) }
  mutating func decode(_ type: Int8.Type) throws -> Int8 { try decodeNext(type) }
  mutating func decode(_ type: Int16.Type) throws -> Int16 { try decodeNext(type) }
  mutating func decode(_ type: Int32.Type) throws -> Int32 { try decodeNext(type) }
  mutating func decode(_ type: Int64.Type) throws -> Int64 { try decodeNext(type) }
  mutating func decode(_ type: UInt.Type) throws -> UInt { try decodeNext(type) }
  mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeNext(type) }
  mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeNext(type) }
  mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeNext(type) }
  mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeNext(type) }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
    let (value, path) = try next()
    return try ValueDecoder(value: value, codingPath: path, state: state).container(keyedBy: type)
  }

  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
    let (value, path) = try next()
    return try ValueDecoder(value: value, codingPath: path, state: state).unkeyedContainer()
  }

  mutating func superDecoder() throws -> any Decoder {
    let (value, path) = try next()
    return ValueDecoder(value: value, codingPath: path, state: state)
  }
}

private struct SingleValue: SingleValueDecodingContainer {
  let value: JSONValue?
  let codingPath: [any CodingKey]
  let state: DecodingState

  private func mismatch(_ expected: String) -> DecodingError {
    DecodingError.typeMismatch(
      Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), got \(value?.typeName ?? "nothing")"))
  }

  func decodeNil() -> Bool {
    switch value {
    case nil, .null?: true
    default: false
    }
  }

  func decode(_ type: Bool.Type) throws -> Bool {
    switch value {
    case nil, .null?: return false
    case .bool(let bool)?: return bool
    default: throw mismatch("true or false")
    }
  }

  func decode(_ type: String.Type) throws -> String {
    switch value {
    case nil, .null?: return ""
    case .string(let text)?: return text
    default: throw mismatch("a string")
    }
  }

  /// An integer from a JSON number or a decimal string (proto JSON writes 64-bit integers as strings).
  private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
    let result: T?
    switch value {
    case nil, .null?: return 0
    case .integer(let n)?: result = T(exactly: n)
    case .unsigned(let n)?: result = T(exactly: n)
    case .double(let d)?: result = d.rounded() == d ? T(exactly: d) : nil
    case .string(let text)?: result = T(text)
    default: throw mismatch("an integer")
    }
    guard let result else { throw mismatch("an integer in \(T.min)…\(T.max)") }
    return result
  }

  private func floating() throws -> Double {
    switch value {
    case nil, .null?: return 0
    case .integer(let n)?: return Double(n)
    case .unsigned(let n)?: return Double(n)
    case .double(let d)?: return d
    case .string(let text)?:
      guard let d = Double(text) else { throw mismatch("a number") }
      return d
    default: throw mismatch("a number")
    }
  }

  func decode(_ type: Double.Type) throws -> Double { try floating() }
  func decode(_ type: Float.Type) throws -> Float { Float(try floating()) }
  func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
  func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
  func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
  func decode(_ type: Int32.Type) throws -> Int32 {
    // An enum tries a number first, then a name: a string must fail here unless it is a number.
    if case .string(let text)? = value, Int32(text) == nil { throw mismatch("an integer") }
    return try integer(Int32.self)
  }
  func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
  func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

  /// The base64 forms proto JSON accepts for bytes: either alphabet (not
  /// mixed), with or without padding.
  private static let base64Forms = [
    Base64.standard, Base64(alphabet: .standard, padding: false), Base64(alphabet: .url, padding: true), Base64.url,
  ]

  /// Bytes: base64 (standard or URL-safe, padding optional), as proto JSON writes them.
  func bytes() throws -> [UInt8] {
    switch value {
    case nil, .null?: return []
    case .string(let text)?:
      guard let bytes = Self.base64Forms.lazy.compactMap({ $0.decode(text) }).first else { throw mismatch("base64 text") }
      return bytes
    default: throw mismatch("base64 text")
    }
  }

  func decode<T: Decodable>(_ type: T.Type) throws -> T {
    try decodeValue(type, value, codingPath, state)
  }
}

