import CGuestAccessPosix
import Dispatch
import Glibc
import GuestAccessAPI
import GuestAccessCore
import GuestAccessProto
import GuestAccessTransport
import GuestAccessWire

/// A real TCP server (TCPServerTransport + RPCServer) on loopback serving a
/// health service and CreateInvitation / GetInvitation handlers that decode
/// their requests with the real codecs. Each input is sent on a new
/// connection right after a valid preface (or, when byte 0 is odd, as the
/// preface itself): frame parsing, call headers, metadata validation, routing,
/// deadlines and request decoding all see it. The connection is then
/// half-closed and read until the server closes it (or 50 ms). Every 64th
/// input a well-behaved client must still get a SERVING answer.

struct FuzzHealth: Health.ServiceProtocol {
  func check(request: HealthCheckRequest, context: ServerContext) async throws -> HealthCheckResponse {
    HealthCheckResponse(status: .serving)
  }
  func watch(request: HealthCheckRequest, response: RPCWriter<HealthCheckResponse>, context: ServerContext) async throws {
    try await response.write(HealthCheckResponse(status: .serving))
    try await response.write(HealthCheckResponse(status: .notServing))
  }
}

struct FuzzInvitations: RegistrableRPCService {
  func registerMethods(with router: inout RPCRouter) {
    router.registerUnary(InvitationService.Method.createInvitation, requestType: CreateInvitationRequest.self) { request, _ in
      CreateInvitationResponse(invitation: Invitation(id: "inv_1", invitedEmail: request.invitedEmail, grants: request.grants))
    }
    router.registerUnary(InvitationService.Method.getInvitation, requestType: GetInvitationRequest.self) { request, _ in
      Invitation(id: request.invitationID)
    }
  }
}

final class Harness: @unchecked Sendable {
  let port: Int
  let client: TCPClientTransport
  var inputs = 0

  init() {
    let configuration = TCPServerConfiguration(
      host: "127.0.0.1", port: 0, maxConnections: 64, maxReceiveMessageSize: 64 << 10, maxHeaderSize: 8 << 10,
      handshakeTimeout: .milliseconds(200), frameTimeout: .milliseconds(200), loopCount: 1)
    let transport = TCPServerTransport(configuration: configuration, group: EventLoopGroup(count: 1, name: "fuzz-server"))
    let server = RPCServer(transports: [transport], services: [FuzzHealth(), FuzzInvitations()])
    Task { try await server.serve() }
    port = Harness.blocking { try await transport.listeningPort() }
    client = TCPClientTransport(host: "127.0.0.1", port: port, group: EventLoopGroup(count: 1, name: "fuzz-client"))
  }

  static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, any Error>!
    Task {
      do { result = .success(try await body()) } catch { result = .failure(error) }
      done.signal()
    }
    done.wait()
    switch result! {
    case .success(let value): return value
    case .failure(let error): fatalError("harness: \(error)")
    }
  }

  func deliver(_ bytes: [UInt8]) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    precondition(connected == 0, "cannot connect to the fuzzed server: errno \(errno)")
    var sent = 0
    while sent < bytes.count {
      let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
      if n <= 0 { break }  // the server closed on a violation
      sent += n
    }
    shutdown(fd, Int32(SHUT_WR))
    var buffer = [UInt8](repeating: 0, count: 65536)
    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while poll(&pfd, 1, 50) > 0 {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
    }
  }

  func checkServing() {
    let client = self.client
    let status = Harness.blocking {
      try await Health.Client(channel: RPCChannel(transport: client)).check(HealthCheckRequest(), options: CallOptions(timeout: .seconds(5))).status
    }
    precondition(status == .serving, "the server stopped serving well-behaved clients")
  }
}

let harness = Harness()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDispatch(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 1 else { return 0 }
  let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  harness.deliver(data[0] & 1 == 1 ? input : Preface.bytes + input)
  harness.inputs += 1
  if harness.inputs % 64 == 0 { harness.checkServing() }
  return 0
}
