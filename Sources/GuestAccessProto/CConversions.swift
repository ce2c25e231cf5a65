internal import CGuestAccessProto

/// A Swift string from a protobuf-c string (NULL reads as empty).
@inline(__always)
func _protoString(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
  guard let pointer else { return "" }
  return String(cString: pointer)
}

/// A Swift byte array from a protobuf-c binary blob.
@inline(__always)
func _protoBytes(_ data: ProtobufCBinaryData) -> [UInt8] {
  guard data.len > 0, let base = data.data else { return [] }
  return Array(UnsafeBufferPointer(start: base, count: data.len))
}

/// A Swift array from a protobuf-c repeated field (`n_x` elements at `x`).
@inline(__always)
func _protoArray<C, T>(_ pointer: UnsafeMutablePointer<C>?, _ count: Int, _ transform: (C) -> T) -> [T] {
  guard count > 0, let pointer else { return [] }
  var result: [T] = []
  result.reserveCapacity(count)
  for index in 0..<count { result.append(transform(pointer[index])) }
  return result
}
