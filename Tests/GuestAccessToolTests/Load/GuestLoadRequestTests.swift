import Foundation
import GuestAccessClient
import GuestAccessJSON
import GuestLoadKit
import Testing

/// guest-load's request building without a server: the method table, proto
/// JSON decoding and templates.
@Suite("guest-load requests")
struct GuestLoadRequestTests {
  @Test func methodTableIsTheSchema() throws {
    let services = [Health.Method.all, TenantService.Method.all, InvitationService.Method.all, GuestService.Method.all]
    #expect(Set(CallableMethod.all.map(\.descriptor)) == Set(services.flatMap { $0 }))
    #expect(CallableMethod.all.count == services.map(\.count).reduce(0, +))
    for name in [
      "guestaccess.v1.GuestService/ListGuests", "/guestaccess.v1.GuestService/ListGuests", "guestaccess.v1.GuestService.ListGuests",
      "GuestService/ListGuests",
    ] {
      #expect(try CallableMethod.named(name).descriptor == GuestService.Method.listGuests, "\(name)")
    }
    let watch = try CallableMethod.named("Health/Watch")
    #expect(watch.descriptor.kind == .serverStreaming && watch.requestName == "guestaccess.v1.HealthCheckRequest")
    #expect(throws: LoadSetupError.unknownMethod("GuestService/ListGuest", suggestions: ["guestaccess.v1.GuestService/ListGuests"])) {
      try CallableMethod.named("GuestService/ListGuest")
    }
  }

  @Test func protoJSONNamesDefaultsAndTypes() throws {
    let tenant = try ProtoJSONDecoder.decode(CreateTenantRequest.self, from: JSONValue.parse(#"""
      {"display_name": "Contoso", "verifiedDomains": ["contoso.com"], "admin_mail": null,
       "settings": {"invitationRateLimit": "25", "guest_invite_policy": "ADMINS_AND_GUEST_INVITERS"}}
      """#, what: "test"))
    #expect(tenant.displayName == "Contoso" && tenant.verifiedDomains == ["contoso.com"] && tenant.adminMail.isEmpty)
    #expect(tenant.settings.invitationRateLimit == 25 && tenant.settings.guestInvitePolicy == .adminsAndGuestInviters)
    let access = try ProtoJSONDecoder.decode(CheckAccessRequest.self, from: JSONValue.parse(
      #"{"principalUserID": "usr_1", "resource_id": "app_1", "resourceType": 1}"#, what: "test"))
    #expect(access.principalUserID == "usr_1" && access.resourceID == "app_1" && access.resourceType.rawValue == 1)
    let entry = try ProtoJSONDecoder.decode(MetadataEntry.self, from: JSONValue.parse(#"{"key": "k-bin", "binary_value": "AAEC_w"}"#, what: "test"))
    #expect(entry.binaryValue == [0, 1, 2, 255])
    // Bytes in either alphabet, padded or not; not mixed, not with stray padding or whitespace.
    func bytes(_ text: String) -> [UInt8]? {
      try? ProtoJSONDecoder.decode(MetadataEntry.self, from: .object(["binary_value": .string(text)])).binaryValue
    }
    #expect(["AAEC/w==", "AAEC/w", "AAEC_w==", "AAEC_w"].map(bytes) == Array(repeating: [0, 1, 2, 255], count: 4))
    #expect(bytes("+_8=") == nil && bytes("AAEC_w=") == nil && bytes("AAEC _w") == nil && bytes("AAECw") == nil)
    #expect(try ProtoJSONDecoder.decode(ListGuestsRequest.self, from: .object([:])) == ListGuestsRequest())

    func failure(_ json: String) -> String {
      do {
        _ = try ProtoJSONDecoder.decode(CreateTenantRequest.self, from: JSONValue.parse(json, what: "test"))
        return "decoded"
      } catch {
        return "\(error)"
      }
    }
    #expect(failure(#"{"settings": {"rate": 1}}"#).contains("no field \"rate\" (in settings)"))
    #expect(failure(#"{"displayName": 7}"#).contains("field display_name: expected a string, got a number"))
    #expect(failure(#"{"settings": {"invitationRateLimit": 1.5}}"#).contains("field settings.invitation_rate_limit: expected an integer"))
    #expect(failure(#"{"verifiedDomains": "contoso.com"}"#).contains("field verified_domains: expected a list"))
    #expect(failure(#"[]"#).contains("expected an object"))
  }

  @Test func templatesRenderPerCall() throws {
    let method = try CallableMethod.named("TenantService/CreateGroup")
    let template = try CallTemplate(
      "{{.RequestNumber}}|{{ .WorkerID }}|{{.UUID}}|{{.UUID}}|{{.TimestampUnix}}|{{.TimestampUnixMilli}}|{{.MethodName}}|{{.InputName}}|{{randomString 5}}|{{randomInt 3 4}}|{{newUUID}}",
      method: .init(method))
    let uuid = UUID()
    let context = CallContext(workerID: 3, requestNumber: 41, timestamp: Date(timeIntervalSince1970: 1_700_000_000.25), uuid: uuid)
    let parts = template.render(context).split(separator: "|").map(String.init)
    #expect(parts[0...1] == ["41", "3"] && parts[2] == uuid.uuidString.lowercased() && parts[3] == parts[2])
    #expect(parts[4] == "1700000000" && parts[5] == "1700000000250" && parts[6] == "CreateGroup")
    #expect(parts[7] == "guestaccess.v1.CreateGroupRequest" && parts[8].count == 5 && parts[9] == "3" && UUID(uuidString: parts[10]) != nil)
    #expect(try CallTemplate("plain {text}").isConstant)
    #expect(throws: LoadSetupError.self) { try CallTemplate("{{randomInt 5 1}}") }
    #expect(throws: LoadSetupError.self) { try CallTemplate("{{.RequestNumber") }

    // A number from a template: rendered, then parsed; round-robin over an array.
    let source = try RequestSource(
      method: try CallableMethod.named("TenantService/ListUsers"), data: #"[{"page_size": {{.RequestNumber}}}, {"pageSize": 99}]"#,
      metadata: #"{"request-id": "r-{{.WorkerID}}-{{.RequestNumber}}", "x-fixed": ["a", "b"]}"#, timeout: .seconds(1))
    let (first, options) = try source.call(workerID: 2, requestNumber: 4)
    #expect((first as? ListUsersRequest)?.pageSize == 4)
    #expect(options.metadata["request-id"] == "r-2-4" && options.metadata.values("x-fixed") == ["a", "b"] && options.timeout == .seconds(1))
    #expect((try source.call(workerID: 0, requestNumber: 5).request as? ListUsersRequest)?.pageSize == 99)
  }
}
