/// A protobuf message of the `guestaccess.v1` schema as a Swift value type.
///
/// Generated types conform to it; encoding and decoding go through the
/// protoc-c codecs, but no C type appears in this API.
///
/// String fields cross protobuf-c as NUL-terminated C strings: a string is
/// cut at its first NUL character (U+0000) on encoding and on decoding, and
/// invalid UTF-8 received on the wire is repaired with U+FFFD. Use a `bytes`
/// field for data that may hold NUL. Unknown fields are skipped on decoding
/// and not re-encoded.
public protocol ProtoMessage: Sendable, Hashable {
  /// The fully qualified protobuf name, e.g. `guestaccess.v1.Tenant`.
  static var protoName: String { get }

  /// Creates a message with every field at its default value.
  init()

  /// Decodes the protobuf wire format.
  /// - Throws: `ProtoDecodingError` when the bytes are not a valid message.
  init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError)

  /// The exact number of bytes `serialize(into:)` appends.
  func serializedSize() -> Int

  /// Appends the protobuf wire format of the message to `buffer`.
  func serialize(into buffer: inout [UInt8])
}

extension ProtoMessage {
  /// Decodes the protobuf wire format from any contiguous byte collection.
  public init(serializedBytes bytes: [UInt8]) throws(ProtoDecodingError) {
    let result: Result<Self, ProtoDecodingError> = bytes.withUnsafeBytes { raw in
      do throws(ProtoDecodingError) {
        return .success(try Self(serializedBytes: raw))
      } catch {
        return .failure(error)
      }
    }
    self = try result.get()
  }

  /// Decodes the protobuf wire format from a slice of bytes.
  public init(serializedBytes bytes: ArraySlice<UInt8>) throws(ProtoDecodingError) {
    let result: Result<Self, ProtoDecodingError> = bytes.withUnsafeBytes { raw in
      do throws(ProtoDecodingError) {
        return .success(try Self(serializedBytes: raw))
      } catch {
        return .failure(error)
      }
    }
    self = try result.get()
  }

  /// The protobuf wire format of the message.
  public func serializedBytes() -> [UInt8] {
    var buffer: [UInt8] = []
    serialize(into: &buffer)
    return buffer
  }
}
