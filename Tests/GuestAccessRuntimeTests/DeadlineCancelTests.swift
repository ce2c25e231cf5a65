import GuestAccessCore
import GuestAccessProto
import GuestAccessTestSupport
import GuestAccessTransport
import GuestAccessWire
import Testing

@Suite("Deadlines and cancellation")
struct DeadlineCancelTests {
  @Test("the server enforces a caller's timeout: DEADLINE_EXCEEDED, handler cancelled")
  func serverSideDeadline() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      // A raw client that sends a timeout but never gives up itself.
      let raw = try await RawConnection.handshake(port: server.port)
      let started = ContinuousClock.now
      try await raw.send(Frames.call(1, TestService.hang, HealthCheckRequest(service: "raw"), timeoutMicros: 200_000))
      let frame = try await raw.readFrame { $0.header.callID == 1 }
      let elapsed = started.duration(to: .now)
      #expect(frame?.trailers?.code == StatusCode.deadlineExceeded.rawValue)
      #expect(elapsed >= .milliseconds(190) && elapsed < .seconds(3).scaled, "took \(elapsed)")
      #expect(await service.probe.wait(for: "cancelled:raw"))
      #expect(service.probe.count("finished:raw") == 0)
    }
  }

  @Test("the client gives up at its deadline: DEADLINE_EXCEEDED, handler cancelled")
  func clientSideDeadline() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let started = ContinuousClock.now
      let error = await #expect(throws: RPCError.self) {
        _ = try await channel.unary(
          TestService.hang, request: HealthCheckRequest(service: "client"), responseType: HealthCheckRequest.self,
          options: CallOptions(timeout: .milliseconds(500)))
      }
      #expect(error?.code == .deadlineExceeded)
      let elapsed = started.duration(to: .now)
      #expect(elapsed >= .milliseconds(490) && elapsed < .seconds(3).scaled, "took \(elapsed)")
      #expect(await service.probe.wait(for: "cancelled:client") || service.probe.count("started:client") == 0)
    }
  }

  @Test("a deadline also bounds a server stream")
  func streamingDeadline() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let error = await #expect(throws: RPCError.self) {
        try await channel.serverStreaming(
          TestService.stream, request: HealthCheckRequest(service: "count=0;size=10;key=s"), responseType: HealthCheckRequest.self,
          options: CallOptions(timeout: .milliseconds(500))
        ) { stream in
          for try await _ in stream {}
        }
      }
      #expect(error?.code == .deadlineExceeded)
      // (On a very busy machine the deadline can pass before the handler starts.)
      #expect(await service.probe.wait(for: "cancelled:s") || service.probe.count("started:s") == 0)
    }
  }

  @Test("cancelling the calling task reaches the handler")
  func clientCancel() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let call = Task {
        try await channel.unary(TestService.hang, request: HealthCheckRequest(service: "c1"), responseType: HealthCheckRequest.self, options: .defaults)
      }
      #expect(await service.probe.wait(for: "started:c1"))
      call.cancel()
      let result = await call.result
      #expect(throws: RPCError.self) { try result.get() }
      if case .failure(let error as RPCError) = result { #expect(error.code == .cancelled) }
      #expect(await service.probe.wait(for: "cancelled:c1"))
      // The connection goes on serving.
      let echoed = try await channel.unary(TestService.echo, request: HealthCheckRequest(service: "after"), responseType: HealthCheckRequest.self, options: .defaults)
      #expect(echoed.service == "after")
    }
  }

  @Test("leaving a response stream early cancels the server's handler")
  func streamCancel() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let received = try await channel.serverStreaming(
        TestService.stream, request: HealthCheckRequest(service: "count=0;size=100;key=early"), responseType: HealthCheckRequest.self,
        options: .defaults
      ) { stream in
        var count = 0
        for try await _ in stream {
          count += 1
          if count == 10 { break }
        }
        return count
      }
      #expect(received == 10)
      #expect(await service.probe.wait(for: "cancelled:early"))
    }
  }

  @Test("a raw CANCEL frame cancels the handler and sends no trailers")
  func rawCancel() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      let raw = try await RawConnection.handshake(port: server.port)
      try await raw.send(Frames.call(1, TestService.hang, HealthCheckRequest(service: "r1")))
      #expect(await service.probe.wait(for: "started:r1"))
      try await raw.send(Frames.raw(type: FrameType.cancel.rawValue, callID: 1))
      #expect(await service.probe.wait(for: "cancelled:r1"))
      try await raw.send(Frames.call(2, TestService.echo, HealthCheckRequest(service: "two")))
      let frame = try await raw.readFrame { $0.header.frameType == .message || $0.header.frameType == .trailers }
      #expect(frame?.header.callID == 2, "no frame for the cancelled call 1")
    }
  }
}

@Suite("Early stream exit")
struct EarlyStreamExitTests {
  @Test("a stream abandoned before its connection is up never leaves a handler running")
  func abandonedWhileConnecting() async throws {
    let service = TestService()
    try await withServer(services: [service]) { server in
      for round in 0..<5 {
        // A fresh transport: the call waits for the connection to be made.
        let channel = server.channel()
        let received = try await channel.serverStreaming(
          TestService.stream, request: HealthCheckRequest(service: "count=0;size=10;key=gone\(round)"),
          responseType: HealthCheckRequest.self, options: .defaults
        ) { _ in 0 }
        #expect(received == 0)
        try await Task.sleep(for: .milliseconds(100))
        let started = service.probe.count("started:gone\(round)")
        #expect(await eventually { service.probe.count("cancelled:gone\(round)") == started }, "round \(round): started \(started)")
        channel.transport.close()
      }
    }
  }
}
