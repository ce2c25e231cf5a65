import GuestAccessProto

/// Input: byte 0 picks the message type (of every generated message), the
/// rest is decoded as that type. Decoding must succeed or throw
/// `ProtoDecodingError`; whatever decodes must re-encode to bytes that decode
/// again, with a stable encoding from then on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 1 else { return 0 }
  let type = messageTypes[Int(data[0]) % messageTypes.count]
  let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
  roundTrip(type, body)
  return 0
}

private func roundTrip<M: ProtoMessage>(_ type: M.Type, _ body: UnsafeRawBufferPointer) {
  guard let message = try? M(serializedBytes: body) else { return }
  let once = message.serializedBytes()
  precondition(once.count == message.serializedSize(), "\(M.protoName): serializedSize disagrees with serialize")
  let again: M
  do {
    again = try M(serializedBytes: once)
  } catch {
    preconditionFailure("\(M.protoName): own encoding does not decode: \(error)")
  }
  let twice = again.serializedBytes()
  precondition(again == (try? M(serializedBytes: twice)), "\(M.protoName): encoding not stable")
}
