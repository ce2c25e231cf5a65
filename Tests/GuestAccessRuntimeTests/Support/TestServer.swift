import GuestAccessCore
import GuestAccessTestSupport
import GuestAccessTransport
import Synchronization

/// A running test server: its port, the RPC server and the transport.
struct TestServer: Sendable {
  let port: Int
  let server: RPCServer
  let transport: TCPServerTransport
  /// Completes when `serve` returned.
  let serving: Task<Void, any Error>

  /// A client transport to this server (own connections, the shared loops).
  func clientTransport(connections: Int = 1) -> TCPClientTransport {
    TCPClientTransport(host: "127.0.0.1", port: port, connections: connections, connectTimeout: .seconds(2))
  }

  /// A channel to this server without retries.
  func channel(connections: Int = 1, retryPolicy: RetryPolicy = .none) -> RPCChannel {
    RPCChannel(transport: clientTransport(connections: connections), retryPolicy: retryPolicy)
  }
}

/// A configuration for tests: an ephemeral port, one loop, production limits
/// unless overridden.
func testConfiguration(_ adjust: (inout TCPServerConfiguration) -> Void = { _ in }) -> TCPServerConfiguration {
  var configuration = TCPServerConfiguration(host: "127.0.0.1", port: 0, loopCount: 1)
  adjust(&configuration)
  return configuration
}

/// Starts an `RPCServer` for `services` on a `TCPServerTransport` bound to a
/// free loopback port, runs `body`, and always stops the server.
func withServer<Result: Sendable>(
  services: [any RegistrableRPCService] = [TestService()],
  interceptors: [any ServerInterceptor] = [],
  configuration: TCPServerConfiguration = testConfiguration(),
  _ body: (TestServer) async throws -> Result
) async throws -> Result {
  let transport = TCPServerTransport(configuration: configuration)
  let server = RPCServer(transports: [transport], services: services, interceptors: interceptors)
  let serving = Task { try await server.serve() }
  let port: Int
  do {
    port = try await transport.listeningPort()
  } catch {
    server.stop()
    _ = await serving.result
    throw error
  }
  let testServer = TestServer(port: port, server: server, transport: transport, serving: serving)
  do {
    let result = try await body(testServer)
    server.stop()
    _ = await serving.result
    return result
  } catch {
    server.stop()
    _ = await serving.result
    throw error
  }
}

/// Polls `condition` until it holds or `timeout` (stretched by `TestTime.scale`)
/// passes; returns whether it held.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
  let deadline = ContinuousClock.now + timeout.scaled
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(10))
  }
  return try await condition()
}
