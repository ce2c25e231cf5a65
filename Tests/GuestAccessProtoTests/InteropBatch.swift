import Foundation
import GuestAccessProto

/// A throwaway schema, `interop.Batch`, with one repeated field per message
/// type (`m<i>` = field i, of the i-th type of `allMessageSamples`), so a
/// single protoc run can decode or encode any number of messages of every type.
struct InteropBatch {
  /// The fully qualified name of the batch message.
  static let typeName = "interop.Batch"

  /// The message types, in field-number order (field 1 is `types[0]`).
  let types: [any ProtoMessage.Type]
  /// The directory holding `interop_batch.proto`; pass it to protoc with `-I`.
  let directory: URL
  /// The batch schema file.
  let file: URL
  private let fieldNumbers: [String: Int]

  /// Writes the batch schema to a fresh temporary directory.
  init() throws {
    types = allMessageSamples.map { type(of: $0) }
    fieldNumbers = Dictionary(uniqueKeysWithValues: types.enumerated().map { ($1.protoName, $0 + 1) })
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("ga-interop-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    file = directory.appendingPathComponent("interop_batch.proto")
    var schema = "syntax = \"proto3\";\npackage interop;\n"
    for proto in try RepositoryRoot.protoFiles() {
      schema += "import \"\(proto.dropFirst("Protos/".count))\";\n"
    }
    schema += "message Batch {\n"
    for (index, type) in types.enumerated() {
      schema += "  repeated \(type.protoName) m\(index + 1) = \(index + 1);\n"
    }
    schema += "}\n"
    try schema.write(to: file, atomically: true, encoding: .utf8)
  }

  /// Removes the temporary directory.
  func remove() {
    try? FileManager.default.removeItem(at: directory)
  }

  /// The field number that carries messages of `type`.
  func fieldNumber(of type: any ProtoMessage.Type) -> Int {
    fieldNumbers[type.protoName]!
  }

  /// The batch holding `messages`, each encoded by our codec.
  func encode(_ messages: [any ProtoMessage]) -> [UInt8] {
    messages.flatMap { WireFormat.lengthDelimited(UInt64(fieldNumber(of: type(of: $0))), $0.serializedBytes()) }
  }

  /// `messages` in the order a canonical encoder writes them: by field
  /// number, keeping the order of messages of the same type.
  func canonicalOrder(_ messages: [any ProtoMessage]) -> [any ProtoMessage] {
    messages.enumerated()
      .sorted { (fieldNumber(of: type(of: $0.element)), $0.offset) < (fieldNumber(of: type(of: $1.element)), $1.offset) }
      .map(\.element)
  }

  /// `protoc --decode=interop.Batch`.
  func protocDecode(_ bytes: [UInt8]) async throws -> String {
    try await Protoc.decode(Self.typeName, bytes: bytes, extraIncludes: [directory], extraFiles: [file.path])
  }

  /// `protoc --encode=interop.Batch`.
  func protocEncode(_ text: String) async throws -> [UInt8] {
    try await Protoc.encode(Self.typeName, text: text, extraIncludes: [directory], extraFiles: [file.path])
  }

  /// The top-level `m<i> { ... }` blocks of protoc's text output, in order:
  /// the field number and the block's lines without their 2-space indent.
  static func textBlocks(_ text: String) -> [(field: Int, lines: [String])] {
    var blocks: [(field: Int, lines: [String])] = []
    var current: (field: Int, lines: [String])?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if current == nil, line.hasPrefix("m"), line.hasSuffix(" {"), let field = Int(line.dropFirst().dropLast(2)) {
        current = (field, [])
      } else if line == "}", let block = current {
        blocks.append(block)
        current = nil
      } else if current != nil {
        current!.lines.append(String(line.dropFirst(2)))
      }
    }
    return blocks
  }
}
