internal import CGuestAccessProto
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns every C allocation made while building a message for encoding;
/// `release()` frees them all at once.
final class _ProtoArena {
  private var allocations: [UnsafeMutableRawPointer] = []

  init() {
    allocations.reserveCapacity(8)
  }

  private func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
    let pointer = malloc(max(bytes, 1))!
    allocations.append(pointer)
    return pointer
  }

  /// A NUL-terminated copy of `string`.
  func string(_ string: String) -> UnsafeMutablePointer<CChar> {
    var string = string
    return string.withUTF8 { utf8 in
      let pointer = allocate(utf8.count + 1).assumingMemoryBound(to: CChar.self)
      if let base = utf8.baseAddress {
        UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: utf8.count)
      }
      pointer[utf8.count] = 0
      return pointer
    }
  }

  /// A protobuf-c binary blob holding a copy of `bytes`.
  func bytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
    let pointer = allocate(bytes.count)
    bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    return ProtobufCBinaryData(len: bytes.count, data: pointer.assumingMemoryBound(to: UInt8.self))
  }

  /// An initialised and filled C message for `message`.
  func message<M: _CBridged>(_ message: M) -> UnsafeMutablePointer<M.CMessage> {
    let pointer = allocate(MemoryLayout<M.CMessage>.stride).bindMemory(to: M.CMessage.self, capacity: 1)
    M._cInit(pointer)
    message._fill(pointer, self)
    return pointer
  }

  /// A C array holding `transform` of each element.
  func array<T, C>(_ elements: [T], _ transform: (T) -> C) -> UnsafeMutablePointer<C> {
    let pointer = allocate(MemoryLayout<C>.stride * elements.count).bindMemory(to: C.self, capacity: elements.count)
    for (index, element) in elements.enumerated() {
      (pointer + index).initialize(to: transform(element))
    }
    return pointer
  }

  /// Frees every allocation.
  func release() {
    for pointer in allocations { free(pointer) }
    allocations.removeAll()
  }
}
