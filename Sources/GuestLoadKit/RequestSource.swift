import Foundation
import GuestAccessCore
import GuestAccessTransport
import GuestAccessJSON
import GuestAccessProto

/// The request and metadata of every call of a `--call` run, from `-d`/`-D`
/// and `-m`/`-M`: one JSON object, a JSON array sent round-robin, or
/// newline-delimited objects (also round-robin), with template actions
/// rendered per call. Without any action the requests are decoded once,
/// before the run, and reused.
public struct RequestSource: Sendable {
  /// The method called.
  public let method: CallableMethod
  private let data: Requests
  private let metadata: MetadataSource
  private let timeout: Duration?

  private enum Requests: Sendable {
    /// Decoded once: call n sends `messages[n % count]`.
    case fixed([any ProtoMessage])
    /// Rendered and decoded per call.
    case templated(CallTemplate)
  }

  private enum MetadataSource: Sendable {
    case fixed(Metadata)
    case templated([(key: String, value: CallTemplate)])
  }

  /// Reads and checks the request data and metadata.
  /// - Parameters:
  ///   - data: the JSON text of `-d` or `-D` (nil: an empty request).
  ///   - metadata: the JSON text of `-m` or `-M` (nil: none).
  ///   - tenant: `--tenant`: as guestctl's, it also fills the request's
  ///     `tenant_id` when the message has one and the data leaves it out.
  /// - Throws: `LoadSetupError` for JSON that does not parse, a request that
  ///   does not fit the method's message, invalid metadata or templates.
  public init(method: CallableMethod, data: String?, metadata: String?, tenant: String? = nil, timeout: Duration?) throws {
    self.method = method
    self.timeout = timeout
    let hasTenantID = (try? method.request(from: .object(["tenant_id": .string("")]))) != nil
    tenantID = hasTenantID ? tenant : nil
    let names = CallTemplate.MethodNames(method)
    let text = data ?? "{}"
    let template = try CallTemplate(text, method: names)
    if template.isConstant {
      let items = try Self.items(text)
      self.data = .fixed(try items.map { [tenantID] in try method.request(from: Self.naming(tenantID, in: $0)) })
    } else {
      // Check what the first call would send, so that a mistake shows before any load.
      let sample = template.render(CallContext(workerID: 0, requestNumber: 0))
      for item in try Self.items(sample) { _ = try method.request(from: Self.naming(tenantID, in: item)) }
      self.data = .templated(template)
    }
    self.metadata = try Self.metadata(metadata, names: names)
  }

  /// The tenant to put in requests' `tenant_id` (nil: none, or the message has no such field).
  private let tenantID: String?

  /// `item` with `tenant_id` set to `tenant` unless it names a tenant itself.
  private static func naming(_ tenant: String?, in item: JSONValue) -> JSONValue {
    guard let tenant, case .object(var object) = item,
      !object.keys.contains(where: { ProtoJSONDecoder.normalized($0) == "tenantid" })
    else { return item }
    object["tenant_id"] = .string(tenant)
    return .object(object)
  }

  /// The request items in `text`: a JSON array's elements, one object, or one object per line.
  static func items(_ text: String) throws -> [JSONValue] {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if let whole = try? JSONValue.parse(trimmed, what: "the request data") {
      if case .array(let elements) = whole {
        guard !elements.isEmpty else { throw LoadSetupError.invalidOption("the request data is an empty array") }
        return elements
      }
      return [whole]
    }
    let lines = trimmed.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard lines.count > 1 else {
      _ = try JSONValue.parse(trimmed, what: "the request data")  // throws the parse error of the whole text
      return []
    }
    return try lines.enumerated().map { try JSONValue.parse($0.element, what: "line \($0.offset + 1) of the request data") }
  }

  private static func metadata(_ text: String?, names: CallTemplate.MethodNames) throws -> MetadataSource {
    guard let text else { return .fixed(Metadata()) }
    guard case .object(let object) = try JSONValue.parse(text, what: "the metadata") else {
      throw LoadSetupError.invalidMetadata("expected a JSON object of strings, e.g. {\"request-id\": \"{{.RequestNumber}}\"}")
    }
    var pairs: [(key: String, value: CallTemplate)] = []
    for key in object.keys.sorted() {
      let values: [JSONValue] = if case .array(let items) = object[key]! { items } else { [object[key]!] }
      for value in values {
        guard let text = value.metadataText else { throw LoadSetupError.invalidMetadata("the value of \"\(key)\" is not a string") }
        pairs.append((key: key.lowercased(), value: try CallTemplate(text, method: names)))
      }
    }
    var sample = Metadata()
    for pair in pairs { sample.add(pair.key, pair.value.render(CallContext(workerID: 0, requestNumber: 0))) }
    do {
      try sample.validate()
    } catch {
      throw LoadSetupError.invalidMetadata(error.message)
    }
    if pairs.allSatisfy(\.value.isConstant) { return .fixed(sample) }
    return .templated(pairs)
  }

  /// Whether every call sends the same request and metadata.
  public var isConstant: Bool {
    if case .fixed(let messages) = data, messages.count == 1, case .fixed = metadata { return true }
    return false
  }

  /// The call in the form a run can repeat through `UnaryPipeline`s
  /// (`PipelinedCall`), when it has one: a unary method with the same request
  /// and metadata on every call. `defaultMetadata` (the channel's: credential,
  /// tenant) goes under the call's own metadata, as a channel merges them.
  public func pipelined(transport: TCPClientTransport, defaultMetadata: Metadata) throws -> PipelinedCall? {
    guard isConstant, method.descriptor.kind == .unary else { return nil }
    let (request, options) = try call(workerID: 0, requestNumber: 0)
    var metadata = defaultMetadata
    metadata.merge(options.metadata)
    return PipelinedCall(
      transport: transport,
      call: UnaryPipeline.Call(path: method.descriptor.path, metadata: metadata, request: request.serializedBytes(), timeout: options.timeout))
  }

  /// The request and call options of call `requestNumber` by `workerID`.
  /// - Throws: `LoadSetupError` when a rendered template does not decode (the call counts as failed).
  public func call(workerID: Int, requestNumber: Int) throws -> (request: any ProtoMessage, options: CallOptions) {
    var context: CallContext?
    func make() -> CallContext {
      if let context { return context }
      let made = CallContext(workerID: workerID, requestNumber: requestNumber)
      context = made
      return made
    }
    let request: any ProtoMessage
    switch data {
    case .fixed(let messages):
      request = messages[requestNumber % messages.count]
    case .templated(let template):
      let items = try Self.items(template.render(make()))
      request = try method.request(from: Self.naming(tenantID, in: items[requestNumber % items.count]))
    }
    var options = CallOptions(timeout: timeout)
    switch metadata {
    case .fixed(let fixed):
      options.metadata = fixed
    case .templated(let pairs):
      for pair in pairs { options.metadata.add(pair.key, pair.value.render(make())) }
    }
    return (request, options)
  }
}
