import CLibPQ

/// The rows of one statement, in binary format; `PQclear`ed when released.
/// Not thread-safe: it belongs to its connection's thread.
public final class PGResult {
  let handle: OpaquePointer

  init(_ handle: OpaquePointer) {
    self.handle = handle
  }

  deinit {
    PQclear(handle)
  }

  /// Rows returned.
  public var rowCount: Int { Int(PQntuples(handle)) }

  /// Rows changed by an INSERT, UPDATE or DELETE (0 for other statements).
  public var changedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

  /// Row `index`.
  public func row(_ index: Int) -> PGRow { PGRow(result: self, index: Int32(index)) }
}

/// One row of a binary-format `PGResult`.
public struct PGRow {
  let result: PGResult
  let index: Int32

  /// Whether a column is NULL.
  public func isNull(_ column: Int) -> Bool { PQgetisnull(result.handle, index, Int32(column)) == 1 }

  private func bytes(_ column: Int) -> UnsafeRawBufferPointer {
    let count = Int(PQgetlength(result.handle, index, Int32(column)))
    guard count > 0, let pointer = PQgetvalue(result.handle, index, Int32(column)) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: pointer, count: count)
  }

  /// An integer column (`bigint`, `integer`, `smallint` or `boolean`; 0 for NULL).
  public func int64(_ column: Int) -> Int64 {
    let raw = bytes(column)
    var value: Int64 = 0
    for byte in raw { value = value << 8 | Int64(byte) }
    // Sign-extend the narrower types (network order, two's complement).
    if raw.count > 0 && raw.count < 8 && raw[0] & 0x80 != 0 { value |= ~0 << (raw.count * 8) }
    return value
  }

  /// A text column ("" for NULL).
  public func text(_ column: Int) -> String {
    String(decoding: bytes(column), as: UTF8.self)
  }

  /// A `bytea` column (empty for NULL).
  public func blob(_ column: Int) -> [UInt8] {
    Array(bytes(column))
  }
}
