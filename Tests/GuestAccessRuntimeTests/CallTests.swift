import GuestAccessCore
import GuestAccessProto
import GuestAccessTransport
import Synchronization
import GuestAccessTestSupport
import Testing

@Suite("Calls over loopback")
struct CallTests {
  @Test("1,000 concurrent calls on one connection are all answered, out of order")
  func thousandConcurrentCalls() async throws {
    try await withServer { server in
      let transport = server.clientTransport()
      defer { transport.close() }
      let channel = RPCChannel(transport: transport, retryPolicy: .none)
      let order = Locked<[Int]>([])
      try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<1000 {
          group.addTask {
            // Later calls finish sooner: completion order differs from call order.
            let request = HealthCheckRequest(service: "delay=\((999 - index) / 100 * 20);id=\(index)")
            let response = try await channel.unary(TestService.echo, request: request, responseType: HealthCheckRequest.self, options: .defaults)
            #expect(response == request)
            order.withLock { $0.append(index) }
          }
        }
        try await group.waitForAll()
      }
      let completed = order.withLock { $0 }
      #expect(completed.count == 1000)
      #expect(Set(completed).count == 1000)
      #expect(completed != completed.sorted(), "calls completed in call order")
      // Calls issued last (no delay) finish first, the first ones (180 ms) last.
      let early = completed.prefix(100)
      #expect(early.reduce(0, +) / early.count >= 700, "early completions: \(Array(early))")
      #expect(completed.suffix(50).allSatisfy { $0 < 300 }, "late completions: \(Array(completed.suffix(50)))")
      #expect(server.transport.connectionCount == 1)
    }
  }

  @Test("an unknown method is UNIMPLEMENTED")
  func unknownMethod() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let method = MethodDescriptor(service: "test.Echo", method: "Nope")
      let error = await #expect(throws: RPCError.self) {
        _ = try await channel.unary(method, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
      }
      #expect(error?.code == .unimplemented)
    }
  }

  @Test("an undecodable request message is INVALID_ARGUMENT")
  func undecodableRequest() async throws {
    try await withServer { server in
      let transport = server.clientTransport()
      defer { transport.close() }
      let error = await #expect(throws: RPCError.self) {
        // Field 1, length-delimited, claims 100 bytes but has 1.
        _ = try await transport.unary(path: TestService.echo.path, metadata: [:], deadline: nil, request: [0x0A, 100, 0x41])
      }
      #expect(error?.code == .invalidArgument)
      // The connection is still fine.
      let response = try await transport.unary(path: TestService.echo.path, metadata: [:], deadline: nil, request: HealthCheckRequest(service: "ok").serializedBytes())
      #expect(try HealthCheckRequest(serializedBytes: response).service == "ok")
    }
  }

  /// Sends an encoded request of `size` payload bytes to `Size`; returns the size the server saw.
  static func sendSized(_ transport: TCPClientTransport, _ size: Int) async throws -> String {
    let response = try await transport.unary(path: TestService.size.path, metadata: [:], deadline: nil, request: TestService.blob(size: size))
    return try HealthCheckRequest(serializedBytes: response).service
  }

  @Test("a request over the size limit is RESOURCE_EXHAUSTED and the connection keeps working")
  func oversizedRequest() async throws {
    try await withServer(configuration: testConfiguration { $0.maxReceiveMessageSize = 1024 }) { server in
      let transport = server.clientTransport()
      defer { transport.close() }
      // 2,000 bytes: parsed, then refused; 300,000: skipped unread by the parser; 1,022 (+3): just over.
      for size in [2000, 300_000, 1022] {
        let error = await #expect(throws: RPCError.self) { _ = try await Self.sendSized(transport, size) }
        #expect(error?.code == .resourceExhausted)
        let seen = try await Self.sendSized(transport, 1021)
        #expect(seen == "size=1024")
      }
      #expect(server.transport.connectionCount == 1)
    }
  }

  @Test("the default limit is 4 MiB")
  func defaultLimit() async throws {
    try await withServer { server in
      let transport = server.clientTransport()
      defer { transport.close() }
      let atLimit = (4 << 20) - 5  // + 1 tag byte + 4 length bytes = 4 MiB
      #expect(TestService.blob(size: atLimit).count == 4 << 20)
      let seen = try await Self.sendSized(transport, atLimit)
      #expect(seen == "size=\(4 << 20)")
      let error = await #expect(throws: RPCError.self) { _ = try await Self.sendSized(transport, atLimit + 1) }
      #expect(error?.code == .resourceExhausted)
      let after = try await Self.sendSized(transport, 10)
      #expect(after == "size=12")
    }
  }

  @Test("metadata reaches the handler in order; bad metadata is refused")
  func metadata() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      var metadata: Metadata = ["x-one": "1"]
      metadata.add("x-one", "2")
      metadata.add("trace-bin", binary: [0, 1, 255])
      let response = try await channel.unary(
        TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self,
        options: CallOptions(timeout: .seconds(30), metadata: metadata))
      let received = Metadata(entries: response.metadata.filter { $0.key != "deadline-ms" })
      #expect(received == metadata)
      let remaining = response.metadata.first { $0.key == "deadline-ms" }.flatMap { Int($0.value) }
      // The 30 s timeout arrived as a remaining time the handler saw: at most 5 s spent before it
      // ran (a first call connects; stretched on a loaded machine and under sanitizers).
      let spent = Int(TestTime.scaled(5) * 1000)
      #expect(remaining.map { $0 > 30_000 - spent && $0 <= 30_000 } == true, "deadline propagated: \(String(describing: remaining))")
      #expect(response.domain.hasPrefix("127.0.0.1:"))

      let bad = Metadata(entries: [MetadataEntry(key: "Bad Key", value: "v")])
      let error = await #expect(throws: RPCError.self) {
        _ = try await channel.unary(TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self, options: CallOptions(metadata: bad))
      }
      #expect(error?.code == .invalidArgument)
    }
  }

  @Test("repeated call headers on one connection: each call gets its own metadata (the server reuses a decode only for the same bytes)")
  func repeatedHeaders() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      for tag in ["a", "a", "b", "b", "a", "ab"] {
        let response = try await channel.unary(
          TestService.metadata, request: HealthCheckRequest(), responseType: ErrorInfo.self, options: CallOptions(metadata: ["x-tag": tag]))
        #expect(response.metadata.map(\.value) == [tag])
      }
      // The same headers for another method's path are not the same bytes.
      let echoed = try await channel.unary(TestService.echo, request: HealthCheckRequest(service: "e"), responseType: HealthCheckRequest.self, options: .defaults)
      #expect(echoed.service == "e")
    }
  }

  @Test("error details travel in the trailers")
  func errorDetails() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let error = await #expect(throws: RPCError.self) {
        _ = try await channel.unary(TestService.fail, request: HealthCheckRequest(), responseType: HealthCheckRequest.self, options: .defaults)
      }
      #expect(error == TestService.failure)
    }
  }

  @Test("server streaming delivers every message in order and ends OK")
  func streaming() async throws {
    try await withServer { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let count = try await channel.serverStreaming(
        TestService.stream, request: HealthCheckRequest(service: "count=500;size=3000"), responseType: HealthCheckRequest.self,
        options: .defaults
      ) { stream in
        var count = 0
        for try await message in stream {
          #expect(message.service.count == 3000)
          count += 1
        }
        return count
      }
      #expect(count == 500)
    }
  }
}
