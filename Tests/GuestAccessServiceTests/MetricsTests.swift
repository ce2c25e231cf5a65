import Foundation
import GuestAccessAdmin
import GuestAccessClient
import GuestAccessCore
import GuestAccessServer
import GuestAccessTransport
import GuestAccessWeb
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Metrics")
struct MetricsTests {
  @Test func prometheusTextParsesAndCountersMove() async throws {
    let registry = MetricsBackend.prometheus()
    let endpoint = try HTTPServer(
      configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), group: EventLoopGroup(count: 1, busyPoll: .zero),
      logger: Logger(label: "metrics-test"))
    endpoint.start(handler: WebApp(health: nil, metrics: { MetricsBackend.exposition(of: registry) }))
    defer { endpoint.stop() }
    try await withTestServer { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let label = #"guestaccess_rpc_requests_total{method="/guestaccess.v1.TenantService/GetTenant",code="OK"}"#
      let before = try Self.sample(label, in: await Self.fetch(port: endpoint.port)) ?? 0
      for _ in 0..<7 { _ = try await contoso.adminClient.tenants.getTenant(GetTenantRequest()) }
      await expectError(.unauthenticated) { try await server.client("gak_nope").tenants.getTenant(GetTenantRequest()) }
      let text = try await Self.fetch(port: endpoint.port)
      try Self.validateExposition(text)
      // Other suites run concurrently and call GetTenant too: the counter moved by at least our 7.
      #expect((try Self.sample(label, in: text) ?? 0) >= before + 7)
      let denied = #"guestaccess_rpc_requests_total{method="/guestaccess.v1.TenantService/GetTenant",code="UNAUTHENTICATED"}"#
      #expect((try Self.sample(denied, in: text) ?? 0) >= 1)
      #expect(text.contains("guestaccess_rpc_duration_seconds_bucket"))
      #expect(text.contains("guestaccess_storage_commits_total"))
    }
  }

  /// The synchronous and asynchronous forms share one body: each records a
  /// call's outcome by its status and its duration, whatever form served it.
  @Test func bothFormsRecordEveryOutcome() async throws {
    let registry = MetricsBackend.prometheus()
    let interceptor = MetricsInterceptor()
    let outcomes: [(any Error)?] = [nil, nil, RPCError.notFound(kind: "tenant", id: "ten_x"), CancellationError(), Failure()]
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    for form in ["Sync", "Async"] {
      let context = ServerContext(
        method: MethodDescriptor(service: "test.Metrics" + suffix, method: form), metadata: Metadata(), deadline: nil, peer: "in-process")
      for outcome in outcomes {
        if form == "Sync" {
          try? interceptor.interceptSynchronously(context: context) { _ in if let outcome { throw outcome } }
        } else {
          try? await interceptor.intercept(context: context) { _ in if let outcome { throw outcome } }
        }
      }
    }
    let text = String(decoding: MetricsBackend.exposition(of: registry), as: UTF8.self)
    try Self.validateExposition(text)
    for form in ["Sync", "Async"] {
      let method = "/test.Metrics\(suffix)/\(form)"
      for (code, count) in [("OK", 2.0), ("NOT_FOUND", 1), ("CANCELLED", 1), ("UNKNOWN", 1)] {
        #expect(try Self.sample("guestaccess_rpc_requests_total{method=\"\(method)\",code=\"\(code)\"}", in: text) == count, "\(form) \(code)")
      }
      #expect(try Self.sample("guestaccess_rpc_duration_seconds_count{method=\"\(method)\"}", in: text) == 5, "\(form)")
    }
  }

  /// A known method's OK series exists before its first call; unknown
  /// methods get theirs on first use; the in-flight count follows the calls
  /// of both forms, failures included.
  @Test func knownMethodsStartAtZeroAndInFlightFollowsTheCalls() async throws {
    let registry = MetricsBackend.prometheus()
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    let known = MethodDescriptor(service: "test.Known" + suffix, method: "Call")
    let interceptor = MetricsInterceptor(methods: [known])
    let label = "guestaccess_rpc_requests_total{method=\"\(known.path)\",code=\"OK\"}"
    var text = String(decoding: MetricsBackend.exposition(of: registry), as: UTF8.self)
    #expect(try Self.sample(label, in: text) == 0)
    let context = ServerContext(method: known, metadata: Metadata(), deadline: nil, peer: "in-process")
    let other = ServerContext(
      method: MethodDescriptor(service: "test.Unknown" + suffix, method: "Call"), metadata: Metadata(), deadline: nil, peer: "in-process")
    #expect(interceptor.callsInFlight == 0)
    try interceptor.interceptSynchronously(context: context) { _ in
      #expect(interceptor.callsInFlight == 1)
      try? interceptor.interceptSynchronously(context: other) { _ in
        #expect(interceptor.callsInFlight == 2)
        throw Failure()
      }
      #expect(interceptor.callsInFlight == 1)
    }
    try await interceptor.intercept(context: context) { _ in #expect(interceptor.callsInFlight == 1) }
    #expect(interceptor.callsInFlight == 0)
    text = String(decoding: MetricsBackend.exposition(of: registry), as: UTF8.self)
    #expect(try Self.sample(label, in: text) == 2)
    #expect(try Self.sample("guestaccess_rpc_requests_total{method=\"\(other.method.path)\",code=\"UNKNOWN\"}", in: text) == 1)
  }

  struct Failure: Error {}

  /// Checks the Prometheus text format rules: HELP/TYPE comments, sample lines
  /// `name{label="value",...} number`, names matching the metric name
  /// grammar, every sample's family declared by a TYPE line first.
  static func validateExposition(_ text: String) throws {
    var declared: [String: String] = [:]
    let namePattern = try Regex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    for line in text.split(separator: "\n") {
      if line.hasPrefix("# TYPE ") {
        let parts = line.split(separator: " ")
        #expect(parts.count == 4, "bad TYPE line: \(line)")
        #expect(["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])), "bad type: \(line)")
        declared[String(parts[2])] = String(parts[3])
        continue
      }
      if line.hasPrefix("#") { continue }
      let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
      let name = String(line[..<nameEnd])
      #expect(name.wholeMatch(of: namePattern) != nil, "bad metric name: \(line)")
      let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && declared[$0] == nil ? String($0.dropLast($1.count)) : $0 }
      #expect(declared[family] != nil || declared[name] != nil, "sample before its TYPE: \(line)")
      var rest = line[nameEnd...]
      if rest.hasPrefix("{") {
        guard let close = rest.lastIndex(of: "}") else {
          Issue.record("unclosed labels: \(line)")
          continue
        }
        let labels = rest[rest.index(after: rest.startIndex)..<close]
        for pair in labels.split(separator: ",") where !pair.isEmpty {
          #expect(pair.contains("=\"") && pair.hasSuffix("\""), "bad label: \(pair) in \(line)")
        }
        rest = rest[rest.index(after: close)...]
      }
      let value = rest.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
      #expect(Double(value) != nil || ["+Inf", "-Inf", "NaN"].contains(value), "bad value: \(line)")
    }
  }

  static func sample(_ label: String, in text: String) throws -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(label + " ") {
      return Double(line.dropFirst(label.count + 1))
    }
    return nil
  }

  /// GET /metrics over a plain socket.
  static func fetch(port: Int) async throws -> String {
    let connection = try RawHTTPConnection(port: port)
    connection.send("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    guard let response = await connection.read(), response.status == 200 else { throw EndpointTestError.status("no 200 from /metrics") }
    return response.body
  }

  enum EndpointTestError: Error {
    case status(String)
  }
}
