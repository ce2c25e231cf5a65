/// A gRPC status code: the 17 codes with their gRPC numbers and meanings.
public struct StatusCode: Hashable, Sendable, RawRepresentable, CustomStringConvertible, Codable {
  /// The wire number, 0...16.
  public let rawValue: UInt32

  /// Creates a code from its wire number; numbers above 16 read as `unknown`.
  public init(rawValue: UInt32) {
    self.rawValue = rawValue <= 16 ? rawValue : 2
  }

  /// Not an error; returned on success.
  public static let ok = StatusCode(rawValue: 0)
  /// The operation was cancelled, typically by the caller.
  public static let cancelled = StatusCode(rawValue: 1)
  /// Unknown error.
  public static let unknown = StatusCode(rawValue: 2)
  /// The client specified an invalid argument.
  public static let invalidArgument = StatusCode(rawValue: 3)
  /// The deadline expired before the operation could complete.
  public static let deadlineExceeded = StatusCode(rawValue: 4)
  /// Some requested entity was not found.
  public static let notFound = StatusCode(rawValue: 5)
  /// The entity that a client attempted to create already exists.
  public static let alreadyExists = StatusCode(rawValue: 6)
  /// The caller does not have permission to execute the operation.
  public static let permissionDenied = StatusCode(rawValue: 7)
  /// Some resource has been exhausted (rate limit, message size).
  public static let resourceExhausted = StatusCode(rawValue: 8)
  /// The system is not in a state required for the operation.
  public static let failedPrecondition = StatusCode(rawValue: 9)
  /// The operation was aborted, typically due to a concurrency issue.
  public static let aborted = StatusCode(rawValue: 10)
  /// The operation was attempted past the valid range.
  public static let outOfRange = StatusCode(rawValue: 11)
  /// The operation is not implemented or not supported.
  public static let unimplemented = StatusCode(rawValue: 12)
  /// Internal error: an invariant of the system is broken.
  public static let internalError = StatusCode(rawValue: 13)
  /// The service is currently unavailable; retrying may succeed.
  public static let unavailable = StatusCode(rawValue: 14)
  /// Unrecoverable data loss or corruption.
  public static let dataLoss = StatusCode(rawValue: 15)
  /// The request lacks valid authentication credentials.
  public static let unauthenticated = StatusCode(rawValue: 16)

  /// Every code in wire order.
  public static let all: [StatusCode] = (0...16).map { StatusCode(rawValue: $0) }

  private static let names = [
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
  ]

  /// The gRPC name, e.g. `NOT_FOUND`.
  public var name: String { Self.names[Int(rawValue)] }

  /// Parses a gRPC name such as `NOT_FOUND` (case-insensitive).
  public init?(name: String) {
    guard let index = Self.names.firstIndex(of: name.uppercased()) else { return nil }
    self.init(rawValue: UInt32(index))
  }

  public var description: String { name }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let name = try container.decode(String.self)
    guard let code = StatusCode(name: name) else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown status code \(name)")
    }
    self = code
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(name)
  }
}
