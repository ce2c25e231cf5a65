/// Decodes `bytes` as a `M` through the codec's raw-buffer initializer.
///
/// The `[UInt8]` convenience initializer of `ProtoMessage` wraps the decode
/// in a generic `Result`, whose type metadata is looked up on every call from
/// code that is not specialized (anything generic across modules); on the
/// per-call path that lookup costs more than decoding a small message.
/// - Throws: `ProtoDecodingError` when the bytes are not a valid `M`.
public func decodeMessage<M: ProtoMessage>(_ type: M.Type, from bytes: [UInt8]) throws(ProtoDecodingError) -> M {
  do {
    return try bytes.withUnsafeBytes { raw in try M(serializedBytes: raw) }
  } catch let error as ProtoDecodingError {
    throw error
  } catch {
    throw ProtoDecodingError(messageName: M.protoName, length: bytes.count, reason: "\(error)")
  }
}
