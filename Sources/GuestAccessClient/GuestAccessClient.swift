import GuestAccessCore
import GuestAccessTransport

// What a client needs, and no more: the messages and stubs, the call and error
// types, the TCP client transport and its TLS settings. The server side of the
// runtime (RPCServer, TCPServerTransport, interceptors, contexts) stays in
// GuestAccessCore and GuestAccessTransport.
@_exported import GuestAccessAPI
@_exported import GuestAccessProto
@_exported import struct GuestAccessCore.CallOptions
@_exported import protocol GuestAccessCore.ClientChannel
@_exported import protocol GuestAccessCore.ClientInterceptor
@_exported import protocol GuestAccessCore.ClientTransport
@_exported import enum GuestAccessCore.DurationText
@_exported import struct GuestAccessCore.ErrorReason
@_exported import struct GuestAccessCore.Metadata
@_exported import struct GuestAccessCore.MethodDescriptor
@_exported import struct GuestAccessCore.RPCChannel
@_exported import struct GuestAccessCore.RPCError
@_exported import struct GuestAccessCore.RPCResponseStream
@_exported import struct GuestAccessCore.RetryPolicy
@_exported import struct GuestAccessCore.StatusCode
@_exported import enum GuestAccessCore.TransportError
@_exported import class GuestAccessTransport.EventLoop
@_exported import class GuestAccessTransport.TCPClientTransport
@_exported import class GuestAccessTransport.UnaryPipeline
@_exported import protocol GuestAccessTransport.UnaryPipelineDriver
@_exported import struct GuestAccessTLS.TLSConfiguration

/// The client library of GuestAccess: typed async methods for every RPC.
///
/// ```swift
/// let client = GuestAccessClient(host: "127.0.0.1", port: 7700, credential: secret)
/// let status = try await client.health.check(HealthCheckRequest())
///
/// // Over TLS, trusting a private CA and presenting a client certificate:
/// let secure = GuestAccessClient(
///   host: "guestd.internal", credential: secret,
///   tls: TLSConfiguration(caFile: "ca.pem", certificateFile: "client.pem", keyFile: "client.key"))
/// ```
///
/// Calls are multiplexed over a small pool of TCP connections that reconnect
/// with backoff; UNAVAILABLE is retried with jittered exponential backoff for
/// idempotent calls (and for calls the server never started), always within
/// the call's deadline. Failures throw `RPCError`.
public struct GuestAccessClient: Sendable {
  /// The channel every stub uses.
  public let channel: RPCChannel
  /// The underlying TCP transport, when the client was made with a host and port.
  public let transport: (any ClientTransport)

  /// Connects (lazily) to `host:port`, authenticating with `credential` when given.
  /// - Parameters:
  ///   - connections: pooled TCP connections (calls are multiplexed on each).
  ///   - tenant: the tenant to act in (metadata `tenant`), for a guest acting in another tenant.
  ///   - tls: connect over TLS with these settings (nil: plaintext).
  public init(
    host: String, port: Int = 7700, credential: String? = nil, tenant: String? = nil, connections: Int = 1,
    connectTimeout: Duration = .seconds(5), tls: TLSConfiguration? = nil, retryPolicy: RetryPolicy = .default,
    interceptors: [any ClientInterceptor] = []
  ) {
    self.init(
      transport: TCPClientTransport(host: host, port: port, connections: connections, connectTimeout: connectTimeout, tls: tls),
      credential: credential, tenant: tenant, retryPolicy: retryPolicy, interceptors: interceptors)
  }

  /// A client over any transport (for example `InProcessTransport.client` in tests).
  public init(
    transport: any ClientTransport, credential: String? = nil, tenant: String? = nil, retryPolicy: RetryPolicy = .default,
    interceptors: [any ClientInterceptor] = []
  ) {
    var metadata = Metadata()
    if let credential { metadata.add("authorization", "Bearer \(credential)") }
    if let tenant { metadata.add("tenant", tenant) }
    self.transport = transport
    channel = RPCChannel(transport: transport, defaultMetadata: metadata, interceptors: interceptors, retryPolicy: retryPolicy)
  }

  /// Health checking (no credential needed).
  public var health: Health.Client { Health.Client(channel: channel) }

  /// Tenants, settings, cross-tenant access, directory, credentials, audit.
  public var tenants: TenantService.Client { TenantService.Client(channel: channel) }

  /// Invitations: create, list, resend, revoke, redeem.
  public var invitations: InvitationService.Client { InvitationService.Client(channel: channel) }

  /// Guests: lifecycle, access checks and access reviews.
  public var guests: GuestService.Client { GuestService.Client(channel: channel) }

  /// Closes the connections; calls in flight fail with UNAVAILABLE.
  public func close() {
    transport.close()
  }
}
