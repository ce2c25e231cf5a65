import GuestAccessCore
import GuestAccessProto
import Testing

/// Adds `x-tag: yes` to every call and counts the calls it saw end.
struct TaggingInterceptor: ClientInterceptor {
  let seen = Locked<[String]>([])

  func intercept(method: MethodDescriptor, options: CallOptions, next: @Sendable (CallOptions) async throws -> Void) async throws {
    var options = options
    options.metadata.add("x-tag", "yes")
    do {
      try await next(options)
      seen.withLock { $0.append("\(method.method):ok") }
    } catch let error as RPCError {
      seen.withLock { $0.append("\(method.method):\(error.code.name)") }
      throw error
    }
  }
}

/// Returns without calling `next`.
struct SwallowingInterceptor: ClientInterceptor {
  func intercept(method: MethodDescriptor, options: CallOptions, next: @Sendable (CallOptions) async throws -> Void) async throws {}
}

@Suite("Client interceptors")
struct InterceptorTests {
  @Test("interceptors wrap unary and server-streaming calls")
  func unaryAndStreaming() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let interceptor = TaggingInterceptor()
      let channel = RPCChannel(transport: server.clientTransport(), interceptors: [interceptor], retryPolicy: .none)
      defer { channel.transport.close() }
      let echoed = try await channel.unary(TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self, options: .defaults)
      #expect(echoed.metadata.contains(MetadataEntry(key: "x-tag", value: "yes")))
      let count = try await channel.serverStreaming(
        TestService.stream, request: HealthCheckRequest(service: "count=3;size=5"), responseType: HealthCheckRequest.self, options: .defaults
      ) { stream in
        var count = 0
        for try await _ in stream { count += 1 }
        return count
      }
      #expect(count == 3)
      #expect(service.probe.count("tag:yes") == 1)
      _ = try? await channel.unary(TestService.fail, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
      #expect(interceptor.seen.value == ["Metadata:ok", "Stream:ok", "Fail:RESOURCE_EXHAUSTED"])
    }
  }

  @Test("an interceptor that never calls next fails the call instead of faking a response")
  func swallowed() async throws {
    try await withServer { server in
      let channel = RPCChannel(transport: server.clientTransport(), interceptors: [SwallowingInterceptor()], retryPolicy: .none)
      defer { channel.transport.close() }
      let error = await #expect(throws: RPCError.self) {
        _ = try await channel.unary(TestService.echo, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
      }
      #expect(error?.code == .internalError)
    }
  }
}
