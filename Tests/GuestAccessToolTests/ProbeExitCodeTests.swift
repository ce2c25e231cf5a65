import GuestAccessClient
import GuestAccessTestSupport
import Testing

/// `guest-probe` exits as grpc_health_probe does: 0 serving, 1 bad
/// arguments, 2 connection failure, 3 RPC failure or timeout, 4 not serving.
@Suite("guest-probe exit codes")
struct ProbeExitCodeTests {
  private func probe(_ arguments: String...) async throws -> ToolResult {
    try await Tools.run("guest-probe", arguments)
  }

  @Test func servingIsZero() async throws {
    try await withToolServer { server in
      let result = try await probe("--addr", server.address)
      #expect(result.status == 0, "\(result)")
      #expect(result.stdout == "status: SERVING\n")
      let named = try await probe("--addr", server.address, "--service", TenantService.serviceName)
      #expect(named.status == 0, "\(named)")
      // grpc_health_probe's single-dash spelling, with an empty host meaning localhost.
      let goStyle = try await probe("-addr=:\(server.port)", "-rpc-timeout=2s", "-connect-timeout=2s", "-v")
      #expect(goStyle.status == 0, "\(goStyle)")
      #expect(goStyle.stderr.contains("establishing connection"))
    }
  }

  @Test func badArgumentsAreOne() async throws {
    for arguments in [["--bogus"], ["--rpc-timeout", "soon"], ["--connect-timeout", "-1s"], ["--addr", "no-port"], ["--addr", "h:99999"]] {
      let result = try await Tools.run("guest-probe", arguments)
      #expect(result.status == 1, "\(arguments): \(result)")
      #expect(!result.stderr.isEmpty)
    }
    let help = try await probe("--help")
    #expect(help.status == 0 && help.stdout.contains("USAGE: guest-probe"), "\(help)")
  }

  @Test func nothingListeningIsTwo() async throws {
    let port = try SilentListener.unusedPort()
    let result = try await probe("--addr", "127.0.0.1:\(port)", "--connect-timeout", "500ms")
    #expect(result.status == 2, "\(result)")
    #expect(result.stderr.contains("failed to connect"))
  }

  @Test func rpcFailureIsThree() async throws {
    try await withToolServer { server in
      let result = try await probe("--addr", server.address, "--service", "unknown.Service")
      #expect(result.status == 3, "\(result)")
      #expect(result.stderr.contains("NOT_FOUND"))
    }
  }

  @Test func rpcTimeoutIsThree() async throws {
    let listener = try SilentListener()
    defer { listener.close() }
    let started = ContinuousClock.now
    let result = try await probe("--addr", "127.0.0.1:\(listener.port)", "--rpc-timeout", "200ms", "--connect-timeout", "200ms")
    #expect(result.status == 3, "\(result)")
    #expect(result.stderr.contains("DEADLINE_EXCEEDED"), "\(result)")
    #expect(ContinuousClock.now - started < .seconds(5).scaled)
  }

  @Test func notServingIsFour() async throws {
    try await withToolServer { server in
      server.app.health.setStatus(.notServing, for: "guestaccess.test.Draining")
      let named = try await probe("--addr", server.address, "--service", "guestaccess.test.Draining")
      #expect(named.status == 4, "\(named)")
      #expect(named.stderr.contains("NOT_SERVING"), "\(named)")
      // The whole server, as during a drain (health turns NOT_SERVING first).
      server.app.health.setStatus(.notServing, for: "")
      let whole = try await probe("--addr", server.address)
      #expect(whole.status == 4, "\(whole)")
      server.app.health.setStatus(.serving, for: "")
      let back = try await probe("--addr", server.address)
      #expect(back.status == 0, "\(back)")
    }
  }
}
