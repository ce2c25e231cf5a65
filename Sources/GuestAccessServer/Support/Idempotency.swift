import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// Idempotency keys on creates: the same key and request return the first
/// result; the same key with another request is FAILED_PRECONDITION. A key
/// is kept 24 hours (as the API documents): after that it is free again, and
/// the sweeper deletes it.
enum Idempotency {
  /// How long a key is remembered (ms).
  static let retentionMillis: Int64 = 24 * 3_600_000

  /// Runs `create` once per (caller, method, key); `redact` removes secrets
  /// before the result is stored for replays.
  static func run<Request: ProtoMessage, Response: ProtoMessage>(
    _ writer: any DirectoryWriter, key: String, scope: String, request: Request, now: Int64,
    redact: (Response) -> Response = { $0 }, create: () throws -> Response
  ) throws -> Response {
    guard !key.isEmpty else { return try create() }
    let requestHash = Secrets.hash(bytes: request.serializedBytes())
    if let stored = try writer.idempotentResult(scope: scope, key: key, notBefore: now - retentionMillis) {
      guard Secrets.constantTimeEqual(stored.requestHash, requestHash) else {
        throw RPCError.failedPrecondition(
          "idempotency key \(key.prefix(128)) was used with a different request", reason: .idempotencyKeyReused)
      }
      do {
        return try Response(serializedBytes: stored.response)
      } catch {
        throw StoreError.corrupt("idempotent response")
      }
    }
    let response = try create()
    try writer.saveIdempotentResult(scope: scope, key: key, requestHash: requestHash, response: redact(response).serializedBytes(), at: now)
    return response
  }
}
