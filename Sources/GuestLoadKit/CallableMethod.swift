import GuestAccessCore
import GuestAccessJSON
import GuestAccessProto

/// One RPC method that `--call` can name: its descriptor and its request and
/// response types, erased so that the method table (generated from the
/// schema, see `Generated/CallableMethods.swift`) can list them all.
public struct CallableMethod: Sendable {
  /// The method's descriptor (service, name, kind).
  public let descriptor: MethodDescriptor
  /// The request message's protobuf name, e.g. `guestaccess.v1.ListGuestsRequest`.
  public let requestName: String
  /// The response message's protobuf name.
  public let responseName: String
  private let parse: @Sendable (JSONValue) throws -> any ProtoMessage
  private let bind: @Sendable (any ClientChannel) -> BoundCall

  /// A method whose requests are `Request` and responses `Response`.
  public init<Request: ProtoMessage & Decodable, Response: ProtoMessage>(
    _ descriptor: MethodDescriptor, request: Request.Type, response: Response.Type
  ) {
    self.descriptor = descriptor
    requestName = Request.protoName
    responseName = Response.protoName
    parse = { try ProtoJSONDecoder.decode(Request.self, from: $0) }
    bind = { channel in BoundCall(descriptor: descriptor, channel: channel, request: Request.self, response: Response.self) }
  }

  /// Every method of the schema.
  public static var all: [CallableMethod] { generated }

  /// `service/method` with the package (`guestaccess.v1.Health/Check`).
  public var fullName: String { "\(descriptor.service)/\(descriptor.method)" }

  /// Finds a method by `package.Service/Method`, `/package.Service/Method`,
  /// `package.Service.Method` (ghz's forms) or `Service/Method`.
  /// - Throws: `LoadSetupError.unknownMethod` with the closest names.
  public static func named(_ name: String) throws -> CallableMethod {
    var text = name.hasPrefix("/") ? String(name.dropFirst()) : name
    if !text.contains("/"), let dot = text.lastIndex(of: ".") {
      text.replaceSubrange(dot...dot, with: "/")
    }
    if let found = all.first(where: { $0.fullName == text }) { return found }
    if let found = all.first(where: { $0.fullName.hasSuffix(".\(text)") }) { return found }
    let method = text.split(separator: "/").last.map(String.init)?.lowercased() ?? ""
    // The same method in another service, another case, or a name that one is the start of the other.
    let suggestions = all.filter { candidate in
      let name = candidate.descriptor.method.lowercased()
      return name == method || candidate.fullName.lowercased() == text.lowercased()
        || (method.count >= 4 && (name.hasPrefix(method) || method.hasPrefix(name)))
    }.prefix(3)
    throw LoadSetupError.unknownMethod(name, suggestions: suggestions.map(\.fullName))
  }

  /// Decodes a request from JSON (to check it before the run, or per call).
  public func request(from json: JSONValue) throws -> any ProtoMessage {
    try parse(json)
  }

  /// The call bound to a channel.
  public func bound(to channel: any ClientChannel) -> BoundCall {
    bind(channel)
  }
}
