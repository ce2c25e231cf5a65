import Foundation

/// What a template can refer to for one call (ghz's call data).
public struct CallContext: Sendable {
  /// The worker sending the call, from 0.
  public var workerID: Int
  /// The call's number in the run, from 0, unique across workers.
  public var requestNumber: Int
  /// When the call is made.
  public var timestamp: Date
  /// A UUID for the call: the same in its data and its metadata.
  public var uuid: UUID

  public init(workerID: Int, requestNumber: Int, timestamp: Date = Date(), uuid: UUID = UUID()) {
    self.workerID = workerID
    self.requestNumber = requestNumber
    self.timestamp = timestamp
    self.uuid = uuid
  }
}

/// Text with ghz's template actions, rendered for every call:
/// `{{.RequestNumber}}`, `{{.WorkerID}}`, `{{.UUID}}`, `{{.Timestamp}}`
/// (RFC 3339), `{{.TimestampUnix}}`, `{{.TimestampUnixMilli}}`,
/// `{{.TimestampUnixNano}}`, `{{.FullyQualifiedName}}`, `{{.MethodName}}`,
/// `{{.ServiceName}}`, `{{.InputName}}`, `{{.OutputName}}`,
/// `{{.IsClientStreaming}}`, `{{.IsServerStreaming}}`, and the functions
/// `{{newUUID}}`, `{{randomString N}}` (N ≤ 0: 2…16 characters) and
/// `{{randomInt MIN MAX}}` (in [MIN, MAX)).
public struct CallTemplate: Sendable {
  /// What a template refers to about the method (fixed for a run).
  public struct MethodNames: Sendable {
    public var fullyQualifiedName: String
    public var methodName: String
    public var serviceName: String
    public var inputName: String
    public var outputName: String
    public var isServerStreaming: Bool

    public init(_ method: CallableMethod) {
      fullyQualifiedName = "\(method.descriptor.service).\(method.descriptor.method)"
      methodName = method.descriptor.method
      serviceName = method.descriptor.service
      inputName = method.requestName
      outputName = method.responseName
      isServerStreaming = method.descriptor.kind == .serverStreaming
    }

    public init() {
      fullyQualifiedName = ""
      methodName = ""
      serviceName = ""
      inputName = ""
      outputName = ""
      isServerStreaming = false
    }
  }

  enum Segment: Sendable, Equatable {
    case text(String)
    case workerID, requestNumber, uuid, timestamp, timestampUnix, timestampUnixMilli, timestampUnixNano
    case fixed(String)
    case newUUID
    case randomString(Int)
    case randomInt(Int, Int)
  }

  let segments: [Segment]

  /// Whether the text has any action (else it renders to itself).
  public var isConstant: Bool { segments.allSatisfy { if case .text = $0 { true } else { false } } }

  /// Parses `text`.
  /// - Throws: `LoadSetupError.invalidTemplate` for an unknown or malformed action.
  public init(_ text: String, method: MethodNames = MethodNames()) throws {
    var segments: [Segment] = []
    var rest = Substring(text)
    while let open = rest.range(of: "{{") {
      if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
      guard let close = rest[open.upperBound...].range(of: "}}") else {
        throw LoadSetupError.invalidTemplate("\"{{\" without \"}}\"")
      }
      var action = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
      if action.hasPrefix("-") { action = String(action.dropFirst()).trimmingCharacters(in: .whitespaces) }
      if action.hasSuffix("-") { action = String(action.dropLast()).trimmingCharacters(in: .whitespaces) }
      segments.append(try Self.segment(action, method: method))
      rest = rest[close.upperBound...]
    }
    if !rest.isEmpty { segments.append(.text(String(rest))) }
    self.segments = segments
  }

  private static func segment(_ action: String, method: MethodNames) throws -> Segment {
    let words = action.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    switch words.first ?? "" {
    case ".WorkerID": return .workerID
    case ".RequestNumber": return .requestNumber
    case ".UUID": return .uuid
    case ".Timestamp": return .timestamp
    case ".TimestampUnix": return .timestampUnix
    case ".TimestampUnixMilli": return .timestampUnixMilli
    case ".TimestampUnixNano": return .timestampUnixNano
    case ".FullyQualifiedName": return .fixed(method.fullyQualifiedName)
    case ".MethodName": return .fixed(method.methodName)
    case ".ServiceName": return .fixed(method.serviceName)
    case ".InputName": return .fixed(method.inputName)
    case ".OutputName": return .fixed(method.outputName)
    case ".IsClientStreaming": return .fixed("false")
    case ".IsServerStreaming": return .fixed(method.isServerStreaming ? "true" : "false")
    case "newUUID": return .newUUID
    case "randomString":
      guard words.count == 2, let length = Int(words[1]) else { throw LoadSetupError.invalidTemplate("randomString takes one length: {{randomString 8}}") }
      return .randomString(length)
    case "randomInt":
      guard words.count == 3, let low = Int(words[1]), let high = Int(words[2]), low < high else {
        throw LoadSetupError.invalidTemplate("randomInt takes MIN MAX with MIN < MAX: {{randomInt 1 100}}")
      }
      return .randomInt(low, high)
    default:
      throw LoadSetupError.invalidTemplate("unknown action {{\(action)}}")
    }
  }

  private static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

  /// The text for one call.
  public func render(_ context: CallContext) -> String {
    var out = ""
    for segment in segments {
      switch segment {
      case .text(let text), .fixed(let text): out += text
      case .workerID: out += String(context.workerID)
      case .requestNumber: out += String(context.requestNumber)
      case .uuid: out += context.uuid.uuidString.lowercased()
      case .timestamp: out += Self.rfc3339(context.timestamp)
      case .timestampUnix: out += String(Int64(context.timestamp.timeIntervalSince1970))
      case .timestampUnixMilli: out += String(Int64(context.timestamp.timeIntervalSince1970 * 1000))
      case .timestampUnixNano: out += String(Int64(context.timestamp.timeIntervalSince1970 * 1_000_000_000))
      case .newUUID: out += UUID().uuidString.lowercased()
      case .randomString(let length):
        let n = length > 0 ? length : Int.random(in: 2...16)
        out += String((0..<n).map { _ in Self.letters.randomElement()! })
      case .randomInt(let low, let high): out += String(Int.random(in: low..<high))
      }
    }
    return out
  }

  private static func rfc3339(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }
}
