import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessServer
import Testing

/// Health.Check answers from responses encoded once, and reads the whole
/// server's status without a lock when the request names no service: the
/// answer must be the one the message types give, whatever the request's form.
@Suite("Health.Check encodings")
struct HealthCheckEncodingTests {
  @Test func everyFormOfTheRequestGetsTheStatusOfItsService() async throws {
    let health = HealthService()
    health.setStatus(.serving, for: "x.Named")
    try await withServer(services: [health]) { server in
      let channel = server.channel()
      defer { channel.transport.close() }
      let transport = channel.transport
      let path = Health.Method.check.path
      // Field 1 (service) present and empty: the same request as no bytes, decoded the long way.
      let explicitEmpty: [UInt8] = [0x0A, 0x00]
      for status in [ServingStatus.notServing, .serving] {
        health.setStatus(status)
        let expected = HealthCheckResponse(status: status).serializedBytes()
        #expect(try await transport.unary(path: path, metadata: [:], deadline: nil, request: []) == expected)
        #expect(try await transport.unary(path: path, metadata: [:], deadline: nil, request: explicitEmpty) == expected)
        let named = try await transport.unary(
          path: path, metadata: [:], deadline: nil, request: HealthCheckRequest(service: "x.Named").serializedBytes())
        #expect(named == HealthCheckResponse(status: .serving).serializedBytes())
      }
      do {
        _ = try await transport.unary(path: path, metadata: [:], deadline: nil, request: [0x0A, 0x05, 0x41])
        Issue.record("a truncated request was answered")
      } catch let error as RPCError {
        #expect(error.code == .invalidArgument)
      }
      do {
        _ = try await transport.unary(path: path, metadata: [:], deadline: nil, request: HealthCheckRequest(service: "x.Unknown").serializedBytes())
        Issue.record("an unknown service was answered")
      } catch let error as RPCError {
        #expect(error.code == .notFound)
      }
    }
  }
}
