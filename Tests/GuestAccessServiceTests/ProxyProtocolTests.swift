import GuestAccessClient
import GuestAccessCore
import GuestAccessServer
import GuestAccessTestSupport
import GuestAccessWire
import Testing

/// guestd behind a load balancer that sends PROXY protocol v2 headers
/// (`--proxy-protocol-from`): the per-source limits key on the client the
/// balancer names, a trusted balancer must send a header, and nobody else's
/// header is believed.
@Suite("PROXY protocol v2 from a trusted balancer")
struct ProxyProtocolTests {
  /// The balancer connects from 127.0.0.2; clients connect from 127.0.0.1 directly.
  static let balancer = "127.0.0.2"

  private func forwarder(_ server: TestServer, client: String) throws -> ProxyForwarder {
    try ProxyForwarder(targetPort: server.port, source: Self.balancer) {
      ProxyHeader.encode(source: (client, 40_000), destination: (client.contains(":") ? "::1" : "127.0.0.1", UInt16(server.port)))!
    }
  }

  private func client(through forwarder: ProxyForwarder) -> GuestAccessClient {
    GuestAccessClient(host: "127.0.0.1", port: forwarder.port, credential: nil, retryPolicy: .none)
  }

  /// 20 failed redemptions from one client behind the balancer lock out
  /// that client only: another client behind the same balancer, and a
  /// client that connects directly, still get their NOT_FOUND.
  @Test func theRedemptionLimitKeysOnTheClientTheBalancerNames() async throws {
    try await withTestServer(configure: { $0.proxyProtocolSources = [AddressRange("127.0.0.2")!] }) { server in
      let first = try forwarder(server, client: "198.51.100.7")
      let second = try forwarder(server, client: "2001:db8::7")
      defer { first.stop(); second.stop() }
      let attacker = client(through: first)
      for index in 0..<20 {
        await expectError(.notFound, reason: .ticketNotFound) {
          try await attacker.invitations.redeemInvitation(RedeemInvitationRequest(ticket: "tkt_guess\(index)"))
        }
      }
      await expectError(.resourceExhausted, reason: .redemptionRateLimited) {
        try await attacker.invitations.redeemInvitation(RedeemInvitationRequest(ticket: "tkt_guess_more"))
      }
      await expectError(.notFound, reason: .ticketNotFound) {
        try await client(through: second).invitations.redeemInvitation(RedeemInvitationRequest(ticket: "tkt_other_client"))
      }
      await expectError(.notFound, reason: .ticketNotFound) {
        try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: "tkt_direct_client"))
      }
    }
  }

  /// A header from an address that is not a trusted balancer is not read:
  /// the connection fails (its first bytes are not the preface), so nobody
  /// can borrow another address's budget by claiming it.
  @Test func aHeaderFromAnUntrustedAddressIsNotBelieved() async throws {
    try await withTestServer(configure: { $0.proxyProtocolSources = [AddressRange("127.0.0.2")!] }) { server in
      // From 127.0.0.3, which is not trusted, a header claiming to be 198.51.100.9.
      let spoofing = try ProxyForwarder(targetPort: server.port, source: "127.0.0.3") {
        ProxyHeader.encode(source: ("198.51.100.9", 1), destination: ("127.0.0.1", UInt16(server.port)))!
      }
      defer { spoofing.stop() }
      await expectError(.unavailable) {
        try await client(through: spoofing).health.check(HealthCheckRequest())
      }
    }
  }

  /// A trusted balancer's connection without a header is closed: its bytes
  /// are never served as if they came from the balancer's own address.
  @Test func aTrustedBalancerMustSendAHeader() async throws {
    try await withTestServer(configure: { $0.proxyProtocolSources = [AddressRange("127.0.0.2/32")!] }) { server in
      let headerless = try ProxyForwarder(targetPort: server.port, source: Self.balancer) { [] }
      defer { headerless.stop() }
      await expectError(.unavailable) {
        try await client(through: headerless).health.check(HealthCheckRequest())
      }
      // A LOCAL header (the balancer's own health check) keeps the balancer's address and is served.
      let healthCheck = try ProxyForwarder(targetPort: server.port, source: Self.balancer) {
        ProxyHeader.signature + [0x20, 0x00, 0x00, 0x00]
      }
      defer { healthCheck.stop() }
      let response = try await client(through: healthCheck).health.check(HealthCheckRequest())
      #expect(response.status == .serving)
      // A header of another version is refused.
      let garbled = try ProxyForwarder(targetPort: server.port, source: Self.balancer) {
        ProxyHeader.signature + [0x10, 0x11, 0x00, 0x0C] + [UInt8](repeating: 1, count: 12)
      }
      defer { garbled.stop() }
      await expectError(.unavailable) {
        try await client(through: garbled).health.check(HealthCheckRequest())
      }
    }
  }

  /// The web listener takes the header too: its connections per address
  /// count the client the balancer names, and a headerless connection from
  /// the balancer is closed.
  @Test func theWebListenerCountsTheClientTheBalancerNames() async throws {
    try await withTestServer { server in
      let web = try startWeb(server) {
        $0.proxyProtocolSources = [AddressRange("127.0.0.2")!]
        $0.maxConnectionsPerPeer = 1
      }
      defer { web.stop() }
      let port = web.port
      func through(_ client: String) throws -> ProxyForwarder {
        try ProxyForwarder(targetPort: port, source: Self.balancer) {
          ProxyHeader.encode(source: (client, 50_000), destination: ("127.0.0.1", UInt16(port)))!
        }
      }
      let first = try through("198.51.100.7")
      let other = try through("198.51.100.8")
      let headerless = try ProxyForwarder(targetPort: port, source: Self.balancer) { [] }
      defer { first.stop(); other.stop(); headerless.stop() }
      /// A connection through `forwarder` and the status of its GET /healthz (nil: closed without an answer).
      func healthz(through forwarder: ProxyForwarder) async throws -> (RawHTTPConnection, Int?) {
        let connection = try RawHTTPConnection(port: forwarder.port)
        connection.send("GET /healthz HTTP/1.1\r\nHost: guests\r\n\r\n")
        return (connection, await connection.read()?.status)
      }
      let (kept, status) = try await healthz(through: first)
      #expect(status == 200)
      // A second connection of the same client is over its limit of one; another client is not.
      #expect(try await healthz(through: first).1 == nil)
      #expect(try await healthz(through: other).1 == 200)
      #expect(try await healthz(through: headerless).1 == nil)
      withExtendedLifetime(kept) {}
    }
  }
}
