internal import CGuestAccessProto
internal import CProtobufC

/// Implemented by every generated message: converts between the Swift value
/// and its protoc-c struct.
protocol _CBridged: ProtoMessage {
  /// The protoc-c struct of the message.
  associatedtype CMessage

  /// Initialises a C message (`<name>__init`), which also sets its descriptor.
  static func _cInit(_ message: UnsafeMutablePointer<CMessage>)

  /// Copies a decoded C message into a Swift value.
  init(_c: UnsafePointer<CMessage>)

  /// The protobuf-c descriptor of the message.
  static var _descriptor: UnsafePointer<ProtobufCMessageDescriptor> { get }

  /// Fills an initialised C message; every allocation belongs to `arena`.
  func _fill(_ c: UnsafeMutablePointer<CMessage>, _ arena: _ProtoArena)
}

/// The protobuf-c descriptor of `M`, read from an initialised message's header.
func _descriptorOf<M: _CBridged>(_ type: M.Type) -> UnsafePointer<ProtobufCMessageDescriptor> {
  let message = UnsafeMutablePointer<M.CMessage>.allocate(capacity: 1)
  defer { message.deallocate() }
  M._cInit(message)
  return UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor
}

/// Largest message the decoder accepts; larger inputs are refused before
/// protobuf-c sees them (the transport enforces its own, smaller limit).
let _protoMaxDecodeSize = 64 << 20

/// Builds the C form of `message` in an arena and passes its header to `body`.
func _withCMessage<M: _CBridged, R>(_ message: M, _ body: (UnsafePointer<ProtobufCMessage>) -> R) -> R {
  let arena = _ProtoArena()
  defer { arena.release() }
  let c = arena.message(message)
  return c.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { body($0) }
}

/// The packed size of `message`.
func _protoSize<M: _CBridged>(_ message: M) -> Int {
  _withCMessage(message) { Int(protobuf_c_message_get_packed_size($0)) }
}

/// Appends the packed form of `message` to `buffer`.
func _protoEncode<M: _CBridged>(_ message: M, into buffer: inout [UInt8]) {
  _withCMessage(message) { header in
    let size = Int(protobuf_c_message_get_packed_size(header))
    guard size > 0 else { return }
    let start = buffer.count
    buffer.append(contentsOf: repeatElement(0, count: size))
    buffer.withUnsafeMutableBufferPointer { out in
      let written = protobuf_c_message_pack(header, out.baseAddress! + start)
      precondition(written == size, "protobuf-c packed \(written) bytes, expected \(size)")
    }
  }
}

/// Decodes `bytes` as `M` with protobuf-c, then frees the C message.
func _protoDecode<M: _CBridged>(_ type: M.Type, _ bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) -> M {
  guard bytes.count <= _protoMaxDecodeSize else {
    throw ProtoDecodingError(messageName: M.protoName, length: bytes.count, reason: "larger than \(_protoMaxDecodeSize) bytes")
  }
  if bytes.isEmpty { return M() }
  let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
  guard let unpacked = protobuf_c_message_unpack(M._descriptor, nil, bytes.count, data) else {
    throw ProtoDecodingError(messageName: M.protoName, length: bytes.count, reason: "malformed protobuf")
  }
  // protobuf-c keeps strings NUL-terminated and would cut one at an embedded NUL: refuse instead of losing data.
  var field: UnsafePointer<CChar>?
  if ga_protobuf_string_holds_nul(M._descriptor, bytes.count, data, &field, 0) != 0 {
    protobuf_c_message_free_unpacked(unpacked, nil)
    throw ProtoDecodingError(
      messageName: M.protoName, length: bytes.count,
      reason: "string field \(field.map { String(cString: $0) } ?? "?") contains a NUL byte", isNULInString: true)
  }
  defer { protobuf_c_message_free_unpacked(unpacked, nil) }
  return UnsafeRawPointer(unpacked).withMemoryRebound(to: M.CMessage.self, capacity: 1) { M(_c: $0) }
}
