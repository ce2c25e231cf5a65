import GuestAccessCore
import GuestAccessProto
import GuestAccessTLS
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWire
import Synchronization
import Testing

/// A driver that lets each slot make `callsPerSlot` calls (nil: until the
/// pipeline is closed) and keeps every outcome.
final class RecordingDriver: UnaryPipelineDriver, @unchecked Sendable {
  private let callsPerSlot: Int?
  private let state = Mutex<(started: [Int: Int], outcomes: [UnaryPipeline.Outcome], finished: Int)>(([:], [], 0))
  private let done = Mutex<CheckedContinuation<Void, Never>?>(nil)
  private let finishedFlag = Atomic<Bool>(false)

  init(callsPerSlot: Int?) {
    self.callsPerSlot = callsPerSlot
  }

  var outcomes: [UnaryPipeline.Outcome] { state.withLock { $0.outcomes } }
  var finishedCount: Int { state.withLock { $0.finished } }

  func shouldStart(slot: Int, now: UInt64) -> Bool {
    state.withLock { state in
      let started = state.started[slot, default: 0]
      if let callsPerSlot, started >= callsPerSlot { return false }
      state.started[slot] = started + 1
      return true
    }
  }

  func ended(_ outcome: UnaryPipeline.Outcome) {
    state.withLock { $0.outcomes.append(outcome) }
  }

  func finished() {
    state.withLock { $0.finished += 1 }
    finishedFlag.store(true, ordering: .releasing)
    done.withLock { $0?.resume(); $0 = nil }
  }

  /// Waits until the pipeline said it finished.
  func waitUntilFinished() async {
    await withCheckedContinuation { continuation in
      let already = done.withLock { stored -> Bool in
        if finishedFlag.load(ordering: .acquiring) { return true }
        stored = continuation
        return false
      }
      if already { continuation.resume() }
    }
  }

  /// Waits (polling) until `count` outcomes arrived; false after `timeout`.
  func waitForOutcomes(_ count: Int, timeout: Duration = .seconds(5)) async -> Bool {
    let end = ContinuousClock.now + timeout.scaled
    while ContinuousClock.now < end {
      if outcomes.count >= count { return true }
      try? await Task.sleep(for: .milliseconds(5))
    }
    return outcomes.count >= count
  }
}

@Suite("Unary pipelines")
struct UnaryPipelineTests {
  static let request = HealthCheckRequest(service: "pipeline")

  static func call(_ method: MethodDescriptor, _ request: HealthCheckRequest = request, timeout: Duration? = nil) -> UnaryPipeline.Call {
    UnaryPipeline.Call(path: method.path, metadata: [:], request: request.serializedBytes(), timeout: timeout)
  }

  @Test("every slot repeats the call until its driver stops it; each outcome once, then finished once")
  func repeatsTheCall() async throws {
    try await withServer { server in
      let transport = server.clientTransport()
      defer { transport.close() }
      let driver = RecordingDriver(callsPerSlot: 50)
      let pipeline = transport.makePipeline(call: Self.call(TestService.echo), depth: 8, loop: transport.loops[0], driver: driver)
      pipeline.start()
      await driver.waitUntilFinished()
      let outcomes = driver.outcomes
      #expect(outcomes.count == 400)
      #expect(outcomes.allSatisfy { $0.error == nil && $0.responseBytes == Self.request.serializedBytes().count })
      #expect(Dictionary(grouping: outcomes, by: \.slot).mapValues(\.count) == Dictionary(uniqueKeysWithValues: (0..<8).map { ($0, 50) }))
      #expect(outcomes.allSatisfy { $0.ended >= $0.began })
      #expect(driver.finishedCount == 1)
    }
  }

  @Test("a failing method gives its status; a call past its timeout fails DEADLINE_EXCEEDED and is cancelled on the server")
  func failuresAndDeadlines() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let transport = server.clientTransport()
      defer { transport.close() }
      let failing = RecordingDriver(callsPerSlot: 3)
      transport.makePipeline(call: Self.call(TestService.fail), depth: 2, loop: transport.loops[0], driver: failing).start()
      await failing.waitUntilFinished()
      #expect(failing.outcomes.count == 6)
      #expect(failing.outcomes.allSatisfy { $0.error?.code == .resourceExhausted && $0.error?.errorInfo?.reason == "TEST_LIMITED" })

      // Long enough for the pipeline's own connection to be made first (stretched under sanitizers).
      let timeout = Duration.milliseconds(500).scaled
      let hanging = RecordingDriver(callsPerSlot: 1)
      let began = ContinuousClock.now
      transport.makePipeline(
        call: Self.call(TestService.hang, HealthCheckRequest(service: "late"), timeout: timeout), depth: 1,
        loop: transport.loops[0], driver: hanging
      ).start()
      await hanging.waitUntilFinished()
      #expect(began.duration(to: .now) >= timeout - .milliseconds(5))
      #expect(hanging.outcomes.map { $0.error?.code } == [.deadlineExceeded])
      #expect(await service.probe.wait(for: "cancelled:late"))
    }
  }

  @Test("GOAWAY: calls it covers finish on the old connection, the others fail CALL_NOT_PROCESSED, new calls use a new connection")
  func goAway() async throws {
    let server = try RawServer()
    let transport = TCPClientTransport(host: "127.0.0.1", port: server.port)
    defer { transport.close() }
    let driver = RecordingDriver(callsPerSlot: 2)
    let pipeline = transport.makePipeline(call: Self.call(TestService.echo), depth: 3, loop: transport.loops[0], driver: driver)
    pipeline.start()
    let first = try await server.accept()
    try await first.send(Preface.bytes)
    #expect(try await ClientBehaviourTests.readRequests(first, count: 3) == [1, 2, 3])
    var goAway: [UInt8] = []
    FrameEncoder.append(.goAway, callID: 0, message: GoAway(lastCallID: 2, code: 0, message: "bye"), to: &goAway)
    try await first.send(goAway)
    // Call 3 was refused and its slot's next call goes to a new connection.
    let second = try await server.accept()
    try await second.send(Preface.bytes)
    #expect(try await ClientBehaviourTests.readRequests(second, count: 1) == [1])
    // Calls 1 and 2 still finish on the first connection; their slots' next calls go to the second.
    for id: UInt32 in [1, 2] { try await ClientBehaviourTests.answer(first, id, HealthCheckRequest(service: "first")) }
    #expect(try await ClientBehaviourTests.readRequests(second, count: 2) == [2, 3])
    for id: UInt32 in [1, 2, 3] { try await ClientBehaviourTests.answer(second, id, HealthCheckRequest(service: "second")) }
    await driver.waitUntilFinished()
    let outcomes = driver.outcomes
    #expect(outcomes.count == 6)
    #expect(outcomes.filter { $0.error == nil }.count == 5)
    let refused = outcomes.compactMap(\.error)
    #expect(refused.map(\.code) == [.unavailable] && refused.first?.reason == .callNotProcessed)
    // The old connection is closed once its calls are done.
    #expect(try await first.readUntilClosed().isEmpty)
  }

  @Test("a lost connection fails its calls UNAVAILABLE, a server that never spoke CALL_NOT_PROCESSED; the next calls reconnect")
  func lostConnections() async throws {
    let server = try RawServer()
    let transport = TCPClientTransport(host: "127.0.0.1", port: server.port)
    defer { transport.close() }
    let driver = RecordingDriver(callsPerSlot: 3)
    transport.makePipeline(call: Self.call(TestService.echo), depth: 1, loop: transport.loops[0], driver: driver).start()
    // 1: the server spoke, then the connection is lost mid-call.
    let first = try await server.accept()
    try await first.send(Preface.bytes)
    _ = try await ClientBehaviourTests.readRequests(first, count: 1)
    first.reset()
    // 2: closed before the preface.
    let second = try await server.accept()
    _ = try await second.readFrame()
    second.reset()
    // 3: answered on a third connection.
    let third = try await server.accept()
    try await third.send(Preface.bytes)
    let ids = try await ClientBehaviourTests.readRequests(third, count: 1)
    try await ClientBehaviourTests.answer(third, ids[0], HealthCheckRequest(service: "third"))
    await driver.waitUntilFinished()
    let errors = driver.outcomes.map(\.error)
    #expect(errors.count == 3)
    #expect(errors[0]?.code == .unavailable && errors[0]?.reason != .callNotProcessed, "the server may have run it")
    #expect(errors[1]?.code == .unavailable && errors[1]?.reason == .callNotProcessed)
    #expect(errors[2] == nil)
  }

  @Test("calls wait for a connection; a failed attempt fails them, and the next attempt waits for the backoff")
  func connectFailures() async throws {
    // A port nothing listens on: bound, then closed.
    let port = try RawServer().port
    let transport = TCPClientTransport(host: "127.0.0.1", port: port)
    defer { transport.close() }
    let driver = RecordingDriver(callsPerSlot: 2)
    let began = ContinuousClock.now
    transport.makePipeline(call: Self.call(TestService.echo), depth: 2, loop: transport.loops[0], driver: driver).start()
    await driver.waitUntilFinished()
    let outcomes = driver.outcomes
    #expect(outcomes.count == 4)
    #expect(outcomes.allSatisfy { $0.error?.code == .unavailable && $0.error?.transportError.map { if case .connectFailed = $0 { true } else { false } } == true })
    // Two attempts, the first backoff apart (100 ms, jittered down to 50 ms at the least): not one
    // failure per call as fast as the loop can spin.
    #expect(began.duration(to: .now) >= .milliseconds(49))
  }

  @Test("a call still waiting for its connection fails at its deadline, not at the connect timeout")
  func deadlineWhileConnecting() async throws {
    // A TLS client to a server that accepts and never answers the handshake: the connection
    // stays in the making until the 10 s connect timeout.
    let server = try RawServer()
    let transport = TCPClientTransport(
      host: "127.0.0.1", port: server.port, connectTimeout: .seconds(10), tls: TLSConfiguration(insecureSkipVerify: true))
    defer { transport.close() }
    // The kernel completes the TCP handshake from the listen backlog; nothing accepts or answers.
    let driver = RecordingDriver(callsPerSlot: 1)
    transport.makePipeline(call: Self.call(TestService.echo, timeout: .milliseconds(200)), depth: 1, loop: transport.loops[0], driver: driver)
      .start()
    await driver.waitUntilFinished()
    #expect(driver.outcomes.map { $0.error?.code } == [.deadlineExceeded])
    // The call's own span on the loop clock: its deadline, not the connect timeout.
    let waited = driver.outcomes.first.map { Duration.nanoseconds(Int64($0.ended - $0.began)) } ?? .zero
    #expect(waited >= .milliseconds(195) && waited < .seconds(5), "\(waited)")
    withExtendedLifetime(server) {}
  }

  @Test("close() fails the calls in flight and ends every slot")
  func close() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let transport = server.clientTransport()
      defer { transport.close() }
      let driver = RecordingDriver(callsPerSlot: nil)
      let pipeline = transport.makePipeline(
        call: Self.call(TestService.hang, HealthCheckRequest(service: "held")), depth: 4, loop: transport.loops[0], driver: driver)
      pipeline.start()
      #expect(await service.probe.wait(prefix: "started:held", count: 4))
      pipeline.close()
      await driver.waitUntilFinished()
      #expect(driver.outcomes.count == 4)
      #expect(driver.outcomes.allSatisfy { $0.error?.transportError.map { if case .clientClosed = $0 { true } else { false } } == true })
      // Closing the connection cancelled the calls on the server.
      #expect(await service.probe.wait(prefix: "cancelled:held", count: 4))
    }
  }

  @Test("server PINGs are answered; a server that sends HEADERS breaks the connection and fails the call")
  func pingAndViolation() async throws {
    let server = try RawServer()
    let transport = TCPClientTransport(host: "127.0.0.1", port: server.port)
    defer { transport.close() }
    let driver = RecordingDriver(callsPerSlot: 1)
    transport.makePipeline(call: Self.call(TestService.echo), depth: 1, loop: transport.loops[0], driver: driver).start()
    let connection = try await server.accept()
    try await connection.send(Preface.bytes)
    _ = try await ClientBehaviourTests.readRequests(connection, count: 1)
    try await connection.send(Frames.raw(type: FrameType.ping.rawValue, callID: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8]))
    let pong = try await connection.readFrame()
    #expect(pong?.header.frameType == .ping && pong?.header.flags == .ack && pong?.payload == [1, 2, 3, 4, 5, 6, 7, 8])
    try await connection.send(Frames.raw(type: FrameType.headers.rawValue, callID: 1))
    await driver.waitUntilFinished()
    let error = driver.outcomes.first?.error
    #expect(error?.code == .internalError)
    #expect(error?.transportError.map { if case .protocolViolation = $0 { true } else { false } } == true)
  }
}
