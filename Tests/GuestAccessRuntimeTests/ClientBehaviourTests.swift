import GuestAccessCore
import GuestAccessProto
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWire
import Testing

/// The client transport against a hand-driven server.
@Suite("Client transport")
struct ClientBehaviourTests {
  static let request = HealthCheckRequest(service: "x")

  static func answer(_ connection: RawConnection, _ callID: UInt32, _ message: some ProtoMessage) async throws {
    var bytes: [UInt8] = []
    FrameEncoder.append(.message, callID: callID, message: message, to: &bytes)
    FrameEncoder.append(.trailers, callID: callID, payload: EmptyCollection(), to: &bytes)
    try await connection.send(bytes)
  }

  /// Reads frames until `count` request MESSAGEs arrived; returns their call ids.
  static func readRequests(_ connection: RawConnection, count: Int) async throws -> [UInt32] {
    var ids: [UInt32] = []
    while ids.count < count {
      guard let frame = try await connection.readFrame() else { throw RawError.timeout }
      if frame.header.frameType == .message { ids.append(frame.header.callID) }
    }
    return ids
  }

  /// The error of a call that must fail.
  static func failure(_ call: () async throws -> [UInt8]) async -> RPCError? {
    do {
      _ = try await call()
      Issue.record("the call was answered")
      return nil
    } catch {
      return error as? RPCError
    }
  }

  @Test("a refused connect says when the transport tries again, and a retrying call waits that long")
  func reconnectBackoffHint() async throws {
    // A port nobody listens on (a test server's, after it stopped).
    let port = try await withServer { $0.port }
    let transport = TCPClientTransport(host: "127.0.0.1", port: port, connectTimeout: .seconds(2))
    defer { transport.close() }
    let request = Self.request.serializedBytes()
    // Twenty calls wait for one connect attempt: one refusal counts one failure, the first
    // backoff (50-100 ms) for all of them (up to 400 ms where a loaded machine ran calls after
    // that window, so it tried again; counted once per waiter, twenty waiters backed off for seconds).
    let refusals = await withTaskGroup(of: RPCError?.self) { group in
      for _ in 0..<20 {
        group.addTask { await Self.failure { try await transport.unary(path: TestService.echo.path, metadata: [:], deadline: nil, request: request) } }
      }
      return await group.reduce(into: [RPCError?]()) { $0.append($1) }
    }
    for refused in refusals {
      #expect(refused?.isCallNotProcessed == true && (1...401).contains(refused?.retryDelayMillis ?? 0), "\(String(describing: refused))")
    }
    let refused = refusals[0]
    // Within the backoff the transport does not connect: the same error, with the time left (or,
    // past it on a loaded machine, the next refusal and the second backoff).
    let replayed = await Self.failure { try await transport.unary(path: TestService.echo.path, metadata: [:], deadline: nil, request: request) }
    #expect(replayed?.message == refused?.message && (1...401).contains(replayed?.retryDelayMillis ?? 0), "\(String(describing: replayed))")

    // The server comes back 600 ms later. Each retry waits for the transport's next connect
    // (50-100, 100-200, 200-400, 400-800 ms of backoff, ...), so the attempts reach past it
    // (eight attempts: several seconds, room for a loaded machine).
    let done = Locked(false)
    let server = Task {
      try await Task.sleep(for: .milliseconds(600))
      try await withServer(configuration: testConfiguration { $0.port = port }) { _ in
        #expect(await eventually(timeout: .seconds(10)) { done.value })
      }
    }
    let channel = RPCChannel(transport: transport, retryPolicy: RetryPolicy(maxAttempts: 8))
    let echoed = try await channel.unary(
      TestService.echo, request: Self.request, responseType: HealthCheckRequest.self, options: CallOptions(retryable: true))
    done.withLock { $0 = true }
    try await server.value
    #expect(echoed == Self.request)
  }

  @Test("the client enforces its deadline against a silent server and sends CANCEL")
  func deadlineAgainstSilentServer() async throws {
    let server = try RawServer()
    let transport = TCPClientTransport(host: "127.0.0.1", port: server.port)
    defer { transport.close() }
    let channel = RPCChannel(transport: transport, retryPolicy: .none)
    let call = Task {
      try await channel.unary(TestService.echo, request: Self.request, responseType: HealthCheckRequest.self, options: CallOptions(timeout: .milliseconds(300)))
    }
    let connection = try await server.accept()
    try await connection.send(Preface.bytes)
    let headers = try await connection.readFrame()
    #expect(headers?.header.frameType == .headers)
    let callHeaders = try CallHeaders(serializedBytes: headers?.payload ?? [])
    #expect(callHeaders.method == TestService.echo.path)
    #expect(callHeaders.timeoutMicros > 0 && callHeaders.timeoutMicros <= 300_000, "time left when sent")
    let started = ContinuousClock.now
    let result = await call.result
    #expect(started.duration(to: .now) < .seconds(2).scaled)
    if case .failure(let error as RPCError) = result { #expect(error.code == .deadlineExceeded) } else { Issue.record("expected DEADLINE_EXCEEDED, got \(result)") }
    let cancel = try await connection.readFrame { $0.header.frameType == .cancel }
    #expect(cancel?.header.callID == headers?.header.callID)
  }

  @Test("GOAWAY: calls above last_call_id fail as CALL_NOT_PROCESSED and are retried on a new connection")
  func goAwayMovesCalls() async throws {
    let server = try RawServer()
    let transport = TCPClientTransport(host: "127.0.0.1", port: server.port)
    defer { transport.close() }
    let channel = RPCChannel(transport: transport, retryPolicy: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(5)))
    let nonIdempotent = MethodDescriptor(service: "test.Echo", method: "Create")
    let calls = (0..<3).map { index in
      Task {
        try await channel.unary(nonIdempotent, request: HealthCheckRequest(service: "\(index)"), responseType: HealthCheckRequest.self, options: .defaults)
      }
    }
    let first = try await server.accept()
    try await first.send(Preface.bytes)
    let ids = try await Self.readRequests(first, count: 3)
    #expect(ids == [1, 2, 3])
    // Answer call 1, then go away after it: 2 and 3 were never processed.
    try await Self.answer(first, 1, HealthCheckRequest(service: "first"))
    var goAway: [UInt8] = []
    FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: 1, code: 0, message: "bye"), to: &goAway)
    try await first.send(goAway)
    // The client moves the other two to a new connection, ids starting again.
    let second = try await server.accept()
    try await second.send(Preface.bytes)
    let retried = try await Self.readRequests(second, count: 2)
    #expect(retried == [1, 2])
    for id in retried { try await Self.answer(second, id, HealthCheckRequest(service: "second")) }
    var answers: [String] = []
    for call in calls { answers.append(try await call.value.service) }
    #expect(answers.sorted() == ["first", "second", "second"])
    // The old connection is closed by the client once its calls are done.
    #expect(try await first.readUntilClosed().isEmpty)
  }

  @Test("a connection lost mid-call fails it UNAVAILABLE, not retried unless idempotent")
  func lostConnection() async throws {
    let server = try RawServer()
    let transport = TCPClientTransport(host: "127.0.0.1", port: server.port)
    defer { transport.close() }
    let channel = RPCChannel(transport: transport, retryPolicy: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(5)))
    let nonIdempotent = MethodDescriptor(service: "test.Echo", method: "Create")
    let call = Task {
      try await channel.unary(nonIdempotent, request: Self.request, responseType: HealthCheckRequest.self, options: .defaults)
    }
    let connection = try await server.accept()
    try await connection.send(Preface.bytes)
    _ = try await Self.readRequests(connection, count: 1)
    connection.reset()
    let result = await call.result
    guard case .failure(let error as RPCError) = result else {
      Issue.record("expected UNAVAILABLE, got \(result)")
      return
    }
    #expect(error.code == .unavailable)
    #expect(error.reason != .callNotProcessed, "the server may have run it")
  }

  @Test("a server that closes before its preface: CALL_NOT_PROCESSED")
  func closedBeforePreface() async throws {
    let server = try RawServer()
    let transport = TCPClientTransport(host: "127.0.0.1", port: server.port)
    defer { transport.close() }
    let call = Task {
      try await transport.unary(path: TestService.echo.path, metadata: [:], deadline: nil, request: [])
    }
    let connection = try await server.accept()
    _ = try await connection.readFrame()
    connection.reset()
    let result = await call.result
    guard case .failure(let error as RPCError) = result else {
      Issue.record("expected UNAVAILABLE, got \(result)")
      return
    }
    #expect(error.code == .unavailable)
    #expect(error.reason == .callNotProcessed)
  }

  @Test("server PINGs are answered by the client")
  func clientAnswersPing() async throws {
    let server = try RawServer()
    let transport = TCPClientTransport(host: "127.0.0.1", port: server.port)
    defer { transport.close() }
    let connecting = Task { try await transport.connect() }
    let connection = try await server.accept()
    try await connection.send(Preface.bytes)
    try await connecting.value
    try await connection.send(Frames.raw(type: FrameType.ping.rawValue, callID: 0, payload: [9, 8, 7, 6, 5, 4, 3, 2]))
    let pong = try await connection.readFrame()
    #expect(pong?.header.frameType == .ping)
    #expect(pong?.header.flags == .ack)
    #expect(pong?.payload == [9, 8, 7, 6, 5, 4, 3, 2])
  }
}

