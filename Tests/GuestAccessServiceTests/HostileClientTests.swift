import Foundation
import GuestAccessClient
import GuestAccessServer
import GuestAccessTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Hostile clients against a full server (real TCP, real SQLite): huge
/// metadata, deeply repeated fields on real service methods, connection
/// floods beyond the limit, resets and half-open connections in the middle of
/// calls. Throughout, a well-behaved client on its own connection keeps
/// getting answers. (Transport-level slowloris/oversized frames are covered in
/// GuestAccessRuntimeTests; ticket and passcode brute force in
/// InvitationFlowTests.)
@Suite(.serialized) struct HostileClientTests {
  /// The well-behaved client's check: a read and a durable write both work.
  private func wellBehaved(_ tenant: TestTenant, _ label: String) async throws {
    let client = tenant.adminClient
    defer { client.close() }
    _ = try await client.tenants.getTenant(GetTenantRequest())
    let created = try await client.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "ok-\(label)@partner.example"))
    #expect(created.invitation.invitedEmail == "ok-\(label)@partner.example")
  }

  @Test func hugeMetadataIsRefusedAndOthersKeepWorking() async throws {
    try await withTestServer { server in
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      let hostile = tenant.adminClient
      defer { hostile.close() }
      // One value far past the header limit (64 KiB).
      var huge = Metadata()
      huge.add("x-junk", String(repeating: "a", count: 256 << 10))
      do {
        _ = try await hostile.invitations.createInvitation(
          CreateInvitationRequest(invitedEmail: "huge@partner.example"), options: CallOptions(timeout: .seconds(30), metadata: huge))
        Issue.record("a 256 KiB metadata value was accepted")
      } catch let error as RPCError {
        #expect([.resourceExhausted, .invalidArgument, .unavailable].contains(error.code), "\(error)")
      }
      try await wellBehaved(tenant, "after-huge-value")
      // Many small entries (the same key repeated) that together stay under the limit:
      // answered (OK or an error status), never a crash or a hang.
      var many = Metadata()
      for i in 0..<2000 { many.add("x-repeat", "v\(i)") }
      let fresh = tenant.adminClient
      defer { fresh.close() }
      do {
        _ = try await fresh.tenants.getTenant(GetTenantRequest(), options: CallOptions(timeout: .seconds(30), metadata: many))
      } catch let error as RPCError {
        #expect(error.code != .deadlineExceeded && error.code != .unknown, "\(error)")
      }
      try await wellBehaved(tenant, "after-many-entries")
      // The invitation with the huge metadata was not created.
      let list = try await fresh.invitations.listInvitations(ListInvitationsRequest(pageSize: 100))
      #expect(!list.invitations.contains(where: { $0.invitedEmail == "huge@partner.example" }))
    }
  }

  @Test func deeplyRepeatedFieldsAreRefusedQuickly() async throws {
    try await withTestServer { server in
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      var metadata = Metadata()
      metadata.add("authorization", "Bearer \(tenant.secret)")
      let raw = tenant.adminClient
      defer { raw.close() }
      let email: [UInt8] = protoString(3, "deep@partner.example")
      // sponsors (11) repeated 300,000 times: 600 KB of empty strings.
      let sponsors = email + Array(repeating: [0x5A, 0x00], count: 300_000).flatMap { $0 }
      // grants.group_ids (9.1) repeated 200,000 times inside one grants message.
      let groupIDs = Array(repeating: protoString(1, "grp_x"), count: 200_000).flatMap { $0 }
      let grants = email + protoBytes(9, groupIDs)
      // CreateInvitations with 20,000 items (at most 500 allowed).
      let item = protoBytes(2, protoString(3, "bulk@partner.example"))
      let bulk = Array(repeating: item, count: 20_000).flatMap { $0 }
      let cases: [(String, String, [UInt8])] = [
        ("sponsors", InvitationService.Method.createInvitation.path, sponsors),
        ("group ids", InvitationService.Method.createInvitation.path, grants),
        ("bulk items", InvitationService.Method.createInvitations.path, bulk),
      ]
      for (name, path, request) in cases {
        #expect(request.count < 4 << 20, "\(name) must stay under the message limit to reach the handler")
        let started = ContinuousClock.now
        do {
          _ = try await raw.transport.unary(path: path, metadata: metadata, deadline: .now + .seconds(10), request: request)
          Issue.record("\(name): accepted")
        } catch let error as RPCError {
          #expect(error.code == .invalidArgument, "\(name): \(error)")
        }
        #expect(started.duration(to: .now) < .seconds(5).scaled, "\(name) took too long")
        try await wellBehaved(tenant, "after-\(name.replacingOccurrences(of: " ", with: "-"))")
      }
    }
  }

  @Test func connectionFloodBeyondTheLimit() async throws {
    try await withTestServer(configure: { $0.maxConnections = 32 }) { server in
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      // The well-behaved client connects before the flood.
      let steady = tenant.adminClient
      defer { steady.close() }
      _ = try await steady.tenants.getTenant(GetTenantRequest())
      // 150 connections that send the preface and then hold the socket open.
      var flood: [Int32] = []
      for _ in 0..<150 {
        if let fd = rawConnect(port: server.port) {
          _ = sendAll(fd, prefaceBytes)
          flood.append(fd)
        }
      }
      defer { for fd in flood { close(fd) } }
      for i in 0..<20 {
        _ = try await steady.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "steady\(i)@partner.example"))
      }
      // Once the flood goes away, new clients get in again.
      for fd in flood { close(fd) }
      flood.removeAll()
      var served = false
      for _ in 0..<100 where !served {
        let fresh = tenant.adminClient
        if (try? await fresh.tenants.getTenant(GetTenantRequest(), options: CallOptions(timeout: .seconds(1)))) != nil { served = true }
        fresh.close()
        if !served { try await Task.sleep(for: .milliseconds(50)) }
      }
      #expect(served, "no new client was served after the flood ended")
    }
  }

  /// One connection without a key could park thousands of 60 KB call
  /// headers, and unary responses to a client that never read piled up
  /// outside the output bound. Both at once, with a well-behaved client's
  /// Health.Check served throughout and the server's buffered bytes bounded.
  @Test func pendingHeadersAndNeverReadingClientsAreBounded() async throws {
    try await withTestServer(configure: { $0.sendTimeout = 1 }) { server in
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      let admin = tenant.adminClient
      defer { admin.close() }
      for i in 0..<30 {
        _ = try await admin.tenants.createUser(CreateUserRequest(
          displayName: "User \(i) " + String(repeating: "n", count: 200), mail: "user\(i)@contoso.example"))
      }
      let sampler = Task {
        var peak = 0
        while !Task.isCancelled {
          peak = max(peak, server.app.bufferedBytes)
          try? await Task.sleep(for: .milliseconds(2))
        }
        return peak
      }
      // 8 connections without a key, each sending 500 HEADERS of 60 KB and never a MESSAGE.
      let pad = CallHeaders(
        method: Health.Method.check.path, metadata: [MetadataEntry(key: "x-pad", value: String(repeating: "h", count: 60_000))]
      ).serializedBytes()
      let headerFlood = (1...500).flatMap { frame(type: 1, callID: UInt32($0), pad) }
      var hostile: [Int32] = []
      var taken = 0
      for _ in 0..<8 {
        guard let fd = rawConnect(port: server.port) else { continue }
        hostile.append(fd)
        // Off the Swift pool: 500 ms of sending would hold one of its two threads.
        let flood = prefaceBytes + headerFlood
        taken += try await blocking { sendUntilBlocked(fd, flood, timeout: .milliseconds(500)) }
      }
      // 2 connections with the admin's key pipelining 1,000 ListUsers each, never reading.
      let listUsers = CallHeaders(
        method: TenantService.Method.listUsers.path, metadata: [MetadataEntry(key: "authorization", value: "Bearer \(tenant.secret)")]
      ).serializedBytes()
      let request = ListUsersRequest(pageSize: 1000).serializedBytes()
      let pipelined = (1...1000).flatMap { frame(type: 1, callID: UInt32($0), listUsers) + frame(type: 2, flags: 1, callID: UInt32($0), request) }
      var readers: [Int32] = []
      for _ in 0..<2 {
        guard let fd = rawConnect(port: server.port) else { continue }
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        readers.append(fd)
        let requests = prefaceBytes + pipelined
        _ = try await blocking { sendUntilBlocked(fd, requests, timeout: .milliseconds(500)) }
      }
      defer { for fd in hostile + readers { close(fd) } }
      let health = server.client(nil)
      defer { health.close() }
      for _ in 0..<20 {
        let status = try await health.health.check(HealthCheckRequest(service: ""), options: CallOptions(timeout: .seconds(TestTime.scaled(10))))
        #expect(status.status == .serving)
        try await Task.sleep(for: .milliseconds(50))
      }
      try await wellBehaved(tenant, "under-hostile-load")
      sampler.cancel()
      let peak = await sampler.value
      // 8 × 256 KiB of pending headers, 8 MiB per reader and one turn's responses over it.
      #expect(peak <= 24 << 20, "buffered for hostile clients: \(peak) bytes")
      #expect(taken < 8 * (16 << 20), "the server took \(taken) bytes of pending headers")
      // The readers that never read are closed after the send timeout; their memory is returned.
      var returned = false
      for _ in 0..<100 where !returned {
        returned = server.app.bufferedBytes < 4 << 20
        if !returned { try await Task.sleep(for: .milliseconds(50)) }
      }
      #expect(returned, "still buffered: \(server.app.bufferedBytes)")
    }
  }

  @Test func resetsAndHalfOpenConnectionsMidCall() async throws {
    try await withTestServer { server in
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      let headers = CallHeaders(
        method: InvitationService.Method.createInvitation.path,
        metadata: [MetadataEntry(key: "authorization", value: "Bearer \(tenant.secret)")]
      ).serializedBytes()
      for i in 0..<30 {
        guard let fd = rawConnect(port: server.port) else { continue }
        let request = CreateInvitationRequest(invitedEmail: "reset\(i)@partner.example").serializedBytes()
        var bytes = prefaceBytes + frame(type: 1, callID: 1, headers)
        switch i % 3 {
        case 0:
          // Headers, half a message, then a reset (RST via SO_LINGER 0).
          bytes += frame(type: 2, flags: 1, callID: 1, request).prefix(14)
          _ = sendAll(fd, bytes)
          var linger = linger(l_onoff: 1, l_linger: 0)
          setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        case 1:
          // A whole call, then half-close and vanish without reading the answer.
          bytes += frame(type: 2, flags: 1, callID: 1, request)
          _ = sendAll(fd, bytes)
          shutdown(fd, Int32(SHUT_WR))
        default:
          // Headers only, never the message: a half-open call.
          _ = sendAll(fd, bytes)
        }
        close(fd)
      }
      try await wellBehaved(tenant, "after-resets")
      // The complete calls of half-closed clients ran (their answers had no reader).
      let list = try await tenant.adminClient.invitations.listInvitations(ListInvitationsRequest(pageSize: 100))
      #expect(list.invitations.filter { $0.invitedEmail.hasPrefix("reset") }.count <= 20)
    }
  }
  /// Inputs on which `Scripts/fuzz` (fuzz-dispatch) saw the server trap once
  /// (Fuzz/corpus/fuzz-dispatch/regression-*; see docs/RELIABILITY.md):
  /// replayed many times, interleaved, on fresh connections, while a
  /// well-behaved client keeps working.
  @Test func fuzzRegressionInputs() async throws {
    let inputs = [
      "AUdBAABlAAAALkkAAAAAIgEAAAAAAAABCgEABrccZQAAAC5JAAAAACIBAAAAAAAAAQoBAAa3HC8tdWUAAQocL2d1Ly11ZQABChwvZ3UAAgEAAQBlc3RjY2NlcwAAAAAAAQAAADovQwAAaGVjaxjAhD0AAAAAAAEAAAAAAAA6",
      "AUdBUlABAAAAAAAAHgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAjAAAAAAAAAAAjAAAAAAAQABAQEBAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACMAAAAAAAAAACMAAAAAABAAEBAQ==",
    ].map { Array(Data(base64Encoded: $0)!) }
    try await withTestServer { server in
      let tenant = try await server.makeTenant("Contoso", domain: "contoso.example")
      for round in 0..<100 {
        for input in inputs {
          // Byte 0 is the fuzzer's mode: odd = the rest is sent as is (its own preface).
          guard let fd = rawConnect(port: server.port) else { continue }
          let body = Array(input.dropFirst())
          _ = sendAll(fd, input[0] & 1 == 1 ? body : prefaceBytes + body)
          if round % 2 == 0 { shutdown(fd, Int32(SHUT_WR)) }
          close(fd)
        }
        if round % 25 == 0 { try await wellBehaved(tenant, "fuzz-\(round)") }
      }
      try await wellBehaved(tenant, "fuzz-end")
    }
  }
}

// MARK: - Raw wire helpers (docs/PROTOCOL.md §2–3)

private let prefaceBytes: [UInt8] = [0x47, 0x41, 0x52, 0x50, 1, 0, 0, 0]

private func frame(type: UInt8, flags: UInt8 = 0, callID: UInt32, _ payload: [UInt8]) -> [UInt8] {
  let n = UInt32(payload.count)
  return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags, 0, 0,
    UInt8(callID >> 24), UInt8(callID >> 16 & 0xFF), UInt8(callID >> 8 & 0xFF), UInt8(callID & 0xFF)] + payload
}

private func varint(_ value: Int) -> [UInt8] {
  var v = UInt64(value)
  var out: [UInt8] = []
  while v >= 0x80 {
    out.append(UInt8(v & 0x7F) | 0x80)
    v >>= 7
  }
  out.append(UInt8(v))
  return out
}

private func protoBytes(_ field: Int, _ payload: [UInt8]) -> [UInt8] {
  varint(field << 3 | 2) + varint(payload.count) + payload
}

private func protoString(_ field: Int, _ text: String) -> [UInt8] {
  protoBytes(field, Array(text.utf8))
}

private func rawConnect(port: Int) -> Int32? {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { return nil }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = in_port_t(UInt16(port).bigEndian)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  let result = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
  }
  if result != 0 {
    close(fd)
    return nil
  }
  return fd
}

@discardableResult
private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
  var sent = 0
  while sent < bytes.count {
    let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
    if n <= 0 { return false }
    sent += n
  }
  return true
}
