import GuestAccessProto

/// The error of a failed call: a status code (never OK), a message for
/// developers, a machine-readable reason and details, and — on this side of
/// the wire only — the error that caused it.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The status code; `RPCError.Code` has no OK.
  public var code: Code
  /// A message for developers.
  public var message: String
  /// Machine-readable reason and its facts (`ErrorInfo`), e.g. `INVITE_RATE_LIMITED`.
  public var errorInfo: ErrorInfo?
  /// When the call may be retried, if the server said.
  public var retryDelayMillis: UInt64?
  /// Bad request fields, for `.invalidArgument`.
  public var fieldViolations: [FieldViolation]
  /// Trailing metadata.
  public var metadata: Metadata
  /// The local error behind this one (a socket or TLS failure, a storage
  /// error), for logs; never sent, and not part of `==`.
  public var cause: (any Error)?

  /// Creates an error.
  public init(
    code: Code, message: String, errorInfo: ErrorInfo? = nil, retryDelayMillis: UInt64? = nil,
    fieldViolations: [FieldViolation] = [], metadata: Metadata = [:], cause: (any Error)? = nil
  ) {
    self.code = code
    self.message = message
    self.errorInfo = errorInfo
    self.retryDelayMillis = retryDelayMillis
    self.fieldViolations = fieldViolations
    self.metadata = metadata
    self.cause = cause
  }

  /// Creates an error with a reason in `ErrorReason.domain` and the reason's
  /// facts as `ErrorInfo.metadata` entries (in order).
  public init(
    code: Code, message: String, reason: ErrorReason, info: KeyValuePairs<String, String> = [:],
    retryDelayMillis: UInt64? = nil, cause: (any Error)? = nil
  ) {
    self.init(
      code: code, message: message,
      errorInfo: ErrorInfo(
        reason: reason.rawValue, domain: ErrorReason.domain, metadata: info.map { MetadataEntry(key: $0.key, value: $0.value) }),
      retryDelayMillis: retryDelayMillis, cause: cause)
  }

  /// The machine-readable reason, if any.
  public var reason: ErrorReason? {
    guard let errorInfo, !errorInfo.reason.isEmpty else { return nil }
    return ErrorReason(rawValue: errorInfo.reason)
  }

  /// The value of an `ErrorInfo.metadata` entry, e.g. `attempts_remaining`.
  public func info(_ key: String) -> String? {
    errorInfo?.metadata.first { $0.key == key }?.value
  }

  public var description: String {
    // A transport failure's message is its cause's description: say it once.
    guard let cause, !(cause is TransportError) else { return "\(code.name): \(message)" }
    return "\(code.name): \(message) (cause: \(cause))"
  }

  /// The trailers that carry this error on the wire.
  public var trailers: Trailers {
    Trailers(
      code: code.rawValue, message: message, errorInfo: errorInfo ?? ErrorInfo(),
      retryInfo: retryDelayMillis.map { RetryInfo(retryDelayMillis: $0) } ?? RetryInfo(),
      fieldViolations: fieldViolations, metadata: metadata.entries)
  }

  /// Reads an error from trailers; `nil` when they carry OK.
  public init?(trailers: Trailers) {
    guard let code = Code(StatusCode(rawValue: trailers.code)) else { return nil }
    self.init(
      code: code, message: trailers.message,
      errorInfo: trailers.errorInfo == ErrorInfo() ? nil : trailers.errorInfo,
      retryDelayMillis: trailers.retryInfo == RetryInfo() ? nil : trailers.retryInfo.retryDelayMillis,
      fieldViolations: trailers.fieldViolations, metadata: Metadata(entries: trailers.metadata))
  }

  public static func == (lhs: RPCError, rhs: RPCError) -> Bool {
    lhs.code == rhs.code && lhs.message == rhs.message && lhs.errorInfo == rhs.errorInfo
      && lhs.retryDelayMillis == rhs.retryDelayMillis && lhs.fieldViolations == rhs.fieldViolations
      && lhs.metadata == rhs.metadata
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(code)
    hasher.combine(message)
    hasher.combine(errorInfo)
  }
}

extension RPCError {
  /// The status code of an error: a gRPC code other than OK.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    /// The status this code stands for.
    public let status: StatusCode

    /// The code of `status`; `nil` for OK, which is not an error.
    public init?(_ status: StatusCode) {
      guard status != .ok else { return nil }
      self.status = status
    }

    private init(checked status: StatusCode) { self.status = status }

    /// The wire number, 1...16.
    public var rawValue: UInt32 { status.rawValue }
    /// The gRPC name, e.g. `NOT_FOUND`.
    public var name: String { status.name }
    public var description: String { status.name }

    /// The operation was cancelled, typically by the caller.
    public static let cancelled = Code(checked: .cancelled)
    /// Unknown error.
    public static let unknown = Code(checked: .unknown)
    /// The client specified an invalid argument.
    public static let invalidArgument = Code(checked: .invalidArgument)
    /// The deadline expired before the operation could complete.
    public static let deadlineExceeded = Code(checked: .deadlineExceeded)
    /// Some requested entity was not found.
    public static let notFound = Code(checked: .notFound)
    /// The entity that a client attempted to create already exists.
    public static let alreadyExists = Code(checked: .alreadyExists)
    /// The caller does not have permission to execute the operation.
    public static let permissionDenied = Code(checked: .permissionDenied)
    /// Some resource has been exhausted (rate limit, message size).
    public static let resourceExhausted = Code(checked: .resourceExhausted)
    /// The system is not in a state required for the operation.
    public static let failedPrecondition = Code(checked: .failedPrecondition)
    /// The operation was aborted, typically due to a concurrency issue.
    public static let aborted = Code(checked: .aborted)
    /// The operation was attempted past the valid range.
    public static let outOfRange = Code(checked: .outOfRange)
    /// The operation is not implemented or not supported.
    public static let unimplemented = Code(checked: .unimplemented)
    /// Internal error: an invariant of the system is broken.
    public static let internalError = Code(checked: .internalError)
    /// The service is currently unavailable; retrying may succeed.
    public static let unavailable = Code(checked: .unavailable)
    /// Unrecoverable data loss or corruption.
    public static let dataLoss = Code(checked: .dataLoss)
    /// The request lacks valid authentication credentials.
    public static let unauthenticated = Code(checked: .unauthenticated)
  }
}
