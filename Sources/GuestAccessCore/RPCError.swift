import GuestAccessProto

/// The error of a failed call: a status code, a message for developers and
/// machine-readable details.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The status code; never `.ok`.
  public var code: StatusCode
  /// A message for developers.
  public var message: String
  /// Machine-readable reason (`ErrorInfo.reason`), e.g. `INVITE_RATE_LIMITED`.
  public var errorInfo: ErrorInfo?
  /// When the call may be retried, if the server said.
  public var retryDelayMillis: UInt64?
  /// Bad request fields, for `.invalidArgument`.
  public var fieldViolations: [FieldViolation]
  /// Trailing metadata.
  public var metadata: Metadata

  /// Creates an error.
  public init(
    code: StatusCode, message: String, errorInfo: ErrorInfo? = nil, retryDelayMillis: UInt64? = nil,
    fieldViolations: [FieldViolation] = [], metadata: Metadata = [:]
  ) {
    self.code = code == .ok ? .unknown : code
    self.message = message
    self.errorInfo = errorInfo
    self.retryDelayMillis = retryDelayMillis
    self.fieldViolations = fieldViolations
    self.metadata = metadata
  }

  /// An `.invalidArgument` error naming the field.
  public static func invalidArgument(field: String, _ description: String) -> RPCError {
    RPCError(
      code: .invalidArgument, message: "\(field): \(description)",
      errorInfo: ErrorInfo(reason: "INVALID_FIELD", domain: "guestaccess.v1", metadata: [MetadataEntry(key: "field", value: field)]),
      fieldViolations: [FieldViolation(field: field, description: description)])
  }

  /// The machine-readable reason, if any.
  public var reason: String? { errorInfo?.reason }

  public var description: String { "\(code.name): \(message)" }

  /// The trailers that carry this error on the wire.
  public var trailers: Trailers {
    Trailers(
      code: code.rawValue, message: message, errorInfo: errorInfo ?? ErrorInfo(),
      retryInfo: retryDelayMillis.map { RetryInfo(retryDelayMillis: $0) } ?? RetryInfo(),
      fieldViolations: fieldViolations, metadata: metadata.entries)
  }

  /// Reads an error from trailers; `nil` when they carry OK.
  public init?(trailers: Trailers) {
    guard trailers.code != 0 else { return nil }
    self.init(
      code: StatusCode(rawValue: trailers.code), message: trailers.message,
      errorInfo: trailers.errorInfo == ErrorInfo() ? nil : trailers.errorInfo,
      retryDelayMillis: trailers.retryInfo == RetryInfo() ? nil : trailers.retryInfo.retryDelayMillis,
      fieldViolations: trailers.fieldViolations, metadata: Metadata(entries: trailers.metadata))
  }
}
