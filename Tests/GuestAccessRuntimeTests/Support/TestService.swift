import GuestAccessCore
import GuestAccessProto

/// Raw test methods under `test.Echo`, reusing product messages as payloads
/// (`HealthCheckRequest.service` carries a string of `k=v;` fields):
/// - `Echo`: returns the request; `delay=MS` sleeps MS first, `key=K` records `started:K`.
/// - `Hang`: records `started:KEY`, sleeps until cancelled, records `cancelled:KEY`.
/// - `Stream`: `count=N;size=S;key=K` streams N messages of S bytes (N = 0: until cancelled);
///   records `tag:V` for metadata `x-tag: V`.
/// - `Blob`: `size=S;key=K` answers one message of S bytes.
/// - `Size`: answers `size=<bytes of the encoded request>` (no decoding).
/// - `Metadata`: answers an `ErrorInfo` whose metadata is the request's, plus `deadline-ms`.
/// - `Fail`: throws an `RPCError` with every kind of detail.
/// - `Login`: marks its connection authenticated (as an auth interceptor
///   does) and returns the request.
///
/// Large payloads are encoded by hand (`blob`), not through the message
/// codec, which is slow in debug builds.
struct TestService: RegistrableRPCService {
  static let service = "test.Echo"
  static let echo = MethodDescriptor(service: service, method: "Echo", idempotent: true)
  static let hang = MethodDescriptor(service: service, method: "Hang")
  static let stream = MethodDescriptor(service: service, method: "Stream", kind: .serverStreaming)
  static let blob = MethodDescriptor(service: service, method: "Blob")
  static let size = MethodDescriptor(service: service, method: "Size")
  static let metadata = MethodDescriptor(service: service, method: "Metadata")
  static let fail = MethodDescriptor(service: service, method: "Fail")
  static let login = MethodDescriptor(service: service, method: "Login")

  /// The error `Fail` throws.
  static let failure = RPCError(
    code: .resourceExhausted, message: "slow down",
    errorInfo: ErrorInfo(reason: "TEST_LIMITED", domain: "test", metadata: [MetadataEntry(key: "limit", value: "10")]),
    retryDelayMillis: 1500, fieldViolations: [FieldViolation(field: "a.b[1]", description: "bad")],
    metadata: ["trailer-key": "trailer-value"])

  var probe = Probe()

  func registerMethods(with router: inout RPCRouter) {
    let probe = self.probe
    router.registerUnary(Self.echo, requestType: HealthCheckRequest.self) { request, _ in
      let fields = Self.fields(request.service)
      if let key = fields["key"] { probe.record("started:\(key)") }
      if let delay = fields["delay"].flatMap(Int.init) { try await Task.sleep(for: .milliseconds(delay)) }
      return request
    }
    router.registerUnary(Self.hang, requestType: HealthCheckRequest.self) { request, _ in
      probe.record("started:\(request.service)")
      do {
        try await Task.sleep(for: .seconds(60))
      } catch {
        probe.record("cancelled:\(request.service)")
        throw error
      }
      probe.record("finished:\(request.service)")
      return request
    }
    router.register(Self.stream, handler: .serverStreaming { bytes, context, send in
      if let tag = context.metadata["x-tag"] { probe.record("tag:\(tag)") }
      let fields = try Self.decodeFields(bytes)
      let count = fields["count"].flatMap(Int.init) ?? 1
      let message = Self.blob(size: fields["size"].flatMap(Int.init) ?? 1)
      let key = fields["key"] ?? ""
      probe.record("started:\(key)")
      var sent = 0
      do {
        while count == 0 || sent < count {
          try Task.checkCancellation()
          try await send(message)
          sent += 1
        }
      } catch {
        probe.record("cancelled:\(key)")
        throw error
      }
      probe.record("finished:\(key)")
    })
    router.register(Self.blob, handler: .unary { bytes, _ in
      let fields = try Self.decodeFields(bytes)
      if let key = fields["key"] { probe.record("started:\(key)") }
      return Self.blob(size: fields["size"].flatMap(Int.init) ?? 1)
    })
    router.register(Self.size, handler: .unary { bytes, _ in
      HealthCheckRequest(service: "size=\(bytes.count)").serializedBytes()
    })
    router.registerUnary(Self.metadata, requestType: HealthCheckRequest.self) { _, context in
      var entries = context.metadata.entries
      if let deadline = context.deadline {
        let remaining = ContinuousClock.now.duration(to: deadline)
        entries.append(MetadataEntry(key: "deadline-ms", value: "\(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)"))
      }
      return ErrorInfo(reason: "ECHO", domain: context.peer, metadata: entries)
    }
    router.registerUnary(Self.login, requestType: HealthCheckRequest.self) { request, context in
      context.markConnectionAuthenticated()
      return request
    }
    router.registerUnary(Self.fail, requestType: HealthCheckRequest.self) { (_, _) throws -> HealthCheckRequest in
      throw Self.failure
    }
  }

  /// The encoding of a `HealthCheckRequest` whose `service` is `size` bytes
  /// of "x" (field 1, length-delimited), built without the codec.
  static func blob(size: Int) -> [UInt8] {
    var bytes: [UInt8] = [0x0A]
    var length = size
    while length >= 0x80 {
      bytes.append(UInt8(length & 0x7F) | 0x80)
      length >>= 7
    }
    bytes.append(UInt8(length))
    bytes.append(contentsOf: [UInt8](repeating: 0x78, count: size))
    return bytes
  }

  static func decodeFields(_ bytes: [UInt8]) throws -> [String: String] {
    do {
      return fields(try HealthCheckRequest(serializedBytes: bytes).service)
    } catch {
      throw RPCError(code: .invalidArgument, message: "\(error)")
    }
  }

  /// Parses `k=v;k=v`.
  static func fields(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    for part in text.split(separator: ";") {
      let pair = part.split(separator: "=", maxSplits: 1)
      if pair.count == 2 { result[String(pair[0])] = String(pair[1]) }
    }
    return result
  }
}
