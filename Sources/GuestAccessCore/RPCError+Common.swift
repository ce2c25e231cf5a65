extension RPCError {
  /// An `.invalidArgument` error naming the field (reason `INVALID_FIELD`,
  /// metadata `field`, and a field violation).
  public static func invalidArgument(field: String, _ description: String) -> RPCError {
    var error = RPCError(code: .invalidArgument, message: "\(field): \(description)", reason: .invalidField, info: ["field": field])
    error.fieldViolations = [FieldViolation(field: field, description: description)]
    return error
  }

  /// A `.notFound` error for the object of `kind` with `id` (reason
  /// `NOT_FOUND`, metadata `kind`); the id is cut to 64 characters.
  public static func notFound(kind: String, id: String) -> RPCError {
    RPCError(code: .notFound, message: "\(kind) \(id.prefix(64)) not found", reason: .notFound, info: ["kind": kind])
  }

  /// A `.permissionDenied` error.
  public static func permissionDenied(_ message: String, reason: ErrorReason = .permissionDenied) -> RPCError {
    RPCError(code: .permissionDenied, message: message, reason: reason)
  }

  /// A `.failedPrecondition` error.
  public static func failedPrecondition(_ message: String, reason: ErrorReason) -> RPCError {
    RPCError(code: .failedPrecondition, message: message, reason: reason)
  }

  /// An `.unauthenticated` error.
  public static func unauthenticated(_ message: String, reason: ErrorReason) -> RPCError {
    RPCError(code: .unauthenticated, message: message, reason: reason)
  }

  /// An `.alreadyExists` error.
  public static func alreadyExists(_ message: String, reason: ErrorReason = .alreadyExists) -> RPCError {
    RPCError(code: .alreadyExists, message: message, reason: reason)
  }

  /// An `.unavailable` error with reason `CALL_NOT_PROCESSED`: the call never
  /// reached a handler (not sent, refused while draining or by a connection
  /// limit, the connection failed before the server spoke), so a client may
  /// retry it even when the method is not idempotent.
  public static func callNotProcessed(_ message: String, cause: (any Error)? = nil) -> RPCError {
    RPCError(code: .unavailable, message: message, reason: .callNotProcessed, cause: cause)
  }

  /// Whether the call provably never reached a handler (reason `CALL_NOT_PROCESSED`).
  public var isCallNotProcessed: Bool { code == .unavailable && reason == .callNotProcessed }
}
