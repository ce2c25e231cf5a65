import Foundation
import GuestAccessClient
import GuestLoadKit
import Testing

/// `guest-load --call` against a real server: any method, request data,
/// metadata and templates reach the server; mistakes stop the run before
/// any load.
@Suite("guest-load --call")
struct GuestLoadCallTests {
  @Test func unaryCallSendsTemplatedDataAndMetadata() async throws {
    try await withToolServer { server in
      let tenant = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--admin-mail", "admin@contoso.com", key: server.operatorKey)
      // The operator acts in the tenant through --tenant (metadata `tenant`), as guestctl does.
      let run = try await GuestLoad.run(
        server, "--call", "guestaccess.v1.TenantService/CreateGroup", "--api-key", server.operatorKey, "--tenant", tenant.tenant.id,
        "-d", #"{"display_name": "load-{{.RequestNumber}}-w{{.WorkerID}}", "description": "{{.UUID}}"}"#,
        "-m", #"{"request-id": "req-{{.RequestNumber}}"}"#, "-n", "20", "-c", "2", "-O", "json")
      #expect(run.status == 0, "\(run)")
      let report = try run.decode(LoadReport.self)
      #expect(report.count == 20 && report.statusCodeDistribution == ["OK": 20], "\(report.statusCodeDistribution) \(report.errorDistribution)")
      #expect(report.options["call"] == "guestaccess.v1.TenantService/CreateGroup")

      let admin = GuestAccessClient(host: "127.0.0.1", port: server.port, credential: tenant.adminSecret, retryPolicy: .none)
      defer { admin.close() }
      let groups = try await admin.tenants.listGroups(ListGroupsRequest(pageSize: 100)).groups
      #expect(groups.count == 20)
      // Every request number once, each from worker 0 or 1, each with its own UUID.
      let numbers = Set(groups.compactMap { Int($0.displayName.split(separator: "-")[1]) })
      #expect(numbers == Set(0..<20), "\(groups.map(\.displayName))")
      #expect(groups.allSatisfy { $0.displayName.hasSuffix("-w0") || $0.displayName.hasSuffix("-w1") })
      #expect(Set(groups.map(\.description)).count == 20 && groups.allSatisfy { UUID(uuidString: $0.description) != nil })
      // The metadata reached the server: the audit log records each call's request id.
      let events = try await admin.tenants.listAuditEvents(ListAuditEventsRequest(pageSize: 100, actions: [.groupCreated])).events
      #expect(Set(events.map(\.requestID)) == Set((0..<20).map { "req-\($0)" }), "\(events.map(\.requestID))")
    }
  }

  /// A unary call with the same request and metadata every time runs through
  /// pipelines (no task per call); the credential and tenant still travel
  /// with every call, and statuses are reported as with `--tasks`.
  @Test func fixedUnaryCallKeepsItsCredentialAndTenant() async throws {
    try await withToolServer { server in
      let tenant = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--admin-mail", "admin@contoso.com", key: server.operatorKey)
      for mode in [[], ["--tasks"]] {
        let asOperator = try await GuestLoad.run(
          server, ["--call", "TenantService/GetTenant", "--api-key", server.operatorKey, "--tenant", tenant.tenant.id, "-d", "{}",
                   "-m", #"{"x-request-id": "fixed"}"#, "-n", "200", "-c", "8", "-O", "json"] + mode)
        #expect(try asOperator.decode(LoadReport.self).statusCodeDistribution == ["OK": 200], "\(mode) \(asOperator)")
        let unknownKey = try await GuestLoad.run(
          server, ["--call", "TenantService/GetTenant", "--api-key", "ga_unknown", "-n", "20", "-c", "4", "-O", "json"] + mode)
        #expect(try unknownKey.decode(LoadReport.self).statusCodeDistribution == ["UNAUTHENTICATED": 20], "\(mode) \(unknownKey)")
      }
    }
  }

  @Test func dataFileArraysAndLinesGoRoundRobin() async throws {
    try await withToolServer { server in
      let tenant = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--admin-mail", "admin@contoso.com", key: server.operatorKey)
      let lines = server.workDir + "/groups.ndjson"
      try "{\"displayName\": \"a-{{.RequestNumber}}\"}\n{\"displayName\": \"b-{{.RequestNumber}}\"}\n".write(toFile: lines, atomically: true, encoding: .utf8)
      let run = try await GuestLoad.run(
        server, "--call", "TenantService/CreateGroup", "--api-key", tenant.adminSecret, "-D", lines, "-n", "6", "-c", "1", "-O", "json")
      #expect(run.status == 0, "\(run)")
      let array = server.workDir + "/users.json"
      try #"[{"pageSize": 1}, {"page_size": 2, "userType": "USER_TYPE_MEMBER"}]"#.write(toFile: array, atomically: true, encoding: .utf8)
      let list = try await GuestLoad.run(
        server, "--call", "/guestaccess.v1.TenantService/ListUsers", "--api-key", tenant.adminSecret, "-D", array, "-n", "4", "-O", "json")
      #expect(try list.decode(LoadReport.self).statusCodeDistribution == ["OK": 4], "\(list)")
      let admin = GuestAccessClient(host: "127.0.0.1", port: server.port, credential: tenant.adminSecret, retryPolicy: .none)
      defer { admin.close() }
      let names = Set(try await admin.tenants.listGroups(ListGroupsRequest(pageSize: 100)).groups.map(\.displayName))
      #expect(names == ["a-0", "b-1", "a-2", "b-3", "a-4", "b-5"])
    }
  }

  @Test func serverStreamingCountsMessagesAndTimeToFirst() async throws {
    try await withToolServer { server in
      let tenant = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--admin-mail", "admin@contoso.com", key: server.operatorKey)
      for name in ["One", "Two"] { _ = try await server.guestctl(Group.self, "group", "create", name, key: tenant.adminSecret) }
      // The tenant has three audit events (tenant created, two groups): each call reads them, then is ended by guest-load.
      let run = try await GuestLoad.run(
        server, "--call", "guestaccess.v1.TenantService/WatchAuditEvents", "--api-key", tenant.adminSecret,
        "-d", #"{"afterSequence": "0", "actions": ["GROUP_CREATED", "AUDIT_ACTION_TENANT_CREATED"]}"#,
        "-m", #"{"request-id": "watch-{{.WorkerID}}"}"#, "--stream-call-count", "3", "-n", "4", "-c", "2", "-O", "json")
      #expect(run.status == 0, "\(run)")
      let report = try run.decode(LoadReport.self)
      #expect(report.statusCodeDistribution == ["OK": 4], "\(report.errorDistribution)")
      let streaming = try #require(report.streaming)
      #expect(streaming.messages == 12 && streaming.messagesPerCall == 3)
      #expect(streaming.firstMessageAverage > 0 && streaming.firstMessageAverage <= report.average)
      // A stream that never ends on its own: ended after a duration, still OK.
      let watch = try await GuestLoad.run(
        server, "--call", "guestaccess.v1.Health/Watch", "--stream-call-duration", "100ms", "-n", "3", "-c", "3", "-O", "summary")
      #expect(watch.status == 0 && watch.stdout.contains("[OK]\t3 responses") && watch.stdout.contains("Messages:\t3"), "\(watch)")
    }
  }

  @Test func mistakesStopTheRunBeforeAnyLoad() async throws {
    try await withToolServer { server in
      let unknown = try await GuestLoad.run(server, "--call", "guestaccess.v1.GuestService/ListGuest")
      #expect(unknown.status == 64, "\(unknown)")
      #expect(unknown.stderr.contains("unknown method \"guestaccess.v1.GuestService/ListGuest\""), "\(unknown)")
      let suggested = try await GuestLoad.run(server, "--call", "Nope/ListGuests")
      #expect(suggested.status == 64 && suggested.stderr.contains("did you mean guestaccess.v1.GuestService/ListGuests?"), "\(suggested)")
      let field = try await GuestLoad.run(server, "--call", "guestaccess.v1.GuestService/ListGuests", "-d", #"{"stateFilter": 1}"#)
      #expect(field.status == 64, "\(field)")
      #expect(field.stderr.contains("does not fit ListGuestsRequest: no field \"stateFilter\""), "\(field)")
      #expect(field.stderr.contains("external_user_state"), "\(field)")
      let type = try await GuestLoad.run(server, "--call", "guestaccess.v1.GuestService/ListGuests", "-d", #"{"page_size": "ten"}"#)
      #expect(type.status == 64 && type.stderr.contains("field page_size: expected an integer"), "\(type)")
      let enumName = try await GuestLoad.run(server, "--call", "GuestService/ListGuests", "-d", #"{"externalUserState": "SLEEPING"}"#)
      #expect(enumName.status == 64 && enumName.stderr.contains("SLEEPING"), "\(enumName)")
      let json = try await GuestLoad.run(server, "--call", "Health/Check", "-d", #"{"service": "#)
      #expect(json.status == 64 && json.stderr.contains("not valid JSON"), "\(json)")
      let template = try await GuestLoad.run(server, "--call", "Health/Check", "-d", #"{"service": "{{.Nope}}"}"#)
      #expect(template.status == 64 && template.stderr.contains("unknown action {{.Nope}}"), "\(template)")
      let metadata = try await GuestLoad.run(server, "--call", "Health/Check", "-m", #"{"Bad Key": "x"}"#)
      #expect(metadata.status == 64 && metadata.stderr.contains("invalid metadata"), "\(metadata)")
      let both = try await GuestLoad.run(server, "health", "--call", "Health/Check")
      #expect(both.status == 64, "\(both)")
      // Nothing was sent: the server saw no ListGuests call and no tenant was touched.
      #expect(unknown.stdout.isEmpty && field.stdout.isEmpty)
    }
  }
}

/// Runs the built `guest-load`.
enum GuestLoad {
  /// `guest-load run … --server <server> --quiet`.
  static func run(_ server: ToolServer, _ arguments: String...) async throws -> ToolResult {
    try await run(server, arguments)
  }

  /// `guest-load run … --server <server> --quiet`.
  static func run(_ server: ToolServer, _ arguments: [String]) async throws -> ToolResult {
    try await Tools.run("guest-load", ["run"] + arguments + ["--server", server.address, "--quiet"])
  }

  /// Python 3 from Debian (where `python3-prometheus-client` installs), else the one on PATH.
  static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
}
