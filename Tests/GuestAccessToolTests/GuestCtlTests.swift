import Foundation
import GuestAccessClient
import Testing

/// `guestctl` beyond the quick start: errors and exit codes, tables,
/// `--field`, bulk invitations from CSV, settings and cross-tenant policy.
@Suite("guestctl")
struct GuestCtlTests {
  @Test func failuresPrintCodeAndExitWithIt() async throws {
    try await withToolServer { server in
      let unknownKey = try await server.guestctl("tenant", "list", key: "gak_not-a-real-key")
      #expect(unknownKey.status == 2 + 16, "\(unknownKey)")
      #expect(unknownKey.stderr == "error: UNAUTHENTICATED: unknown credential (reason: CREDENTIAL_UNKNOWN)\n")
      #expect(unknownKey.stdout.isEmpty)
      let missing = try await server.guestctl("tenant", "get", "ten_missing", key: server.operatorKey)
      #expect(missing.status == 2 + 5 && missing.stderr.hasPrefix("error: NOT_FOUND: "), "\(missing)")
      let invalid = try await server.guestctl("settings", "set", "--lifetime-days", "99", "--tenant", "ten_missing", key: server.operatorKey)
      #expect(invalid.status != 0 && invalid.stderr.hasPrefix("error: "), "\(invalid)")
      let usage = try await server.guestctl("check-access", "--user", "usr_1", key: server.operatorKey)
      #expect(usage.status == 64 && usage.stderr.contains("give --app or --group"), "\(usage)")
      let noServer = try await Tools.run(
        "guestctl", ["tenant", "list"], environment: ["GUESTACCESS_SERVER": "127.0.0.1:\(try SilentListener.unusedPort())", "GUESTACCESS_KEY": "k"])
      #expect(noServer.status == 2 + 14 && noServer.stderr.hasPrefix("error: UNAVAILABLE: "), "\(noServer)")
    }
  }

  @Test func tablesAndFields() async throws {
    try await withToolServer { server in
      let env = ["GUESTACCESS_SERVER": server.address, "GUESTACCESS_KEY": server.operatorKey]
      let secret = try await Tools.run(
        "guestctl", ["tenant", "create", "Contoso", "--domain", "contoso.com", "--admin-mail", "admin@contoso.com", "--field", "admin_secret"],
        environment: env)
      #expect(secret.status == 0 && secret.stdout.hasPrefix("gak_") && secret.stdout.split(separator: "\n").count == 1, "\(secret)")
      _ = try await Tools.run("guestctl", ["tenant", "create", "Fabrikam Ltd", "--admin-mail", "admin@fabrikam.com"], environment: env)
      let table = try await Tools.run("guestctl", ["tenant", "list"], environment: env)
      let lines = table.stdout.split(separator: "\n").map(String.init)
      #expect(lines.count == 3, "\(table)")
      #expect(lines[0].hasPrefix("ID") && lines[0].contains("NAME") && lines[0].contains("STATE"))
      // Columns line up: every row has its name where the header has NAME.
      let nameColumn = lines[0].range(of: "NAME")!.lowerBound.utf16Offset(in: lines[0])
      for line in lines.dropFirst() {
        let name = String(line.dropFirst(nameColumn))
        #expect(name.hasPrefix("Contoso ") || name.hasPrefix("Fabrikam Ltd "), "\(line)")
      }
      let detail = try await Tools.run("guestctl", ["tenant", "get", "--tenant", "x"], environment: env)
      #expect(detail.status != 0)
      let noField = try await Tools.run("guestctl", ["tenant", "list", "--field", "nope"], environment: env)
      #expect(noField.status == 1 && noField.stderr == "error: the result has no field \"nope\"\n", "\(noField)")
      let names = try await Tools.run("guestctl", ["tenant", "list", "--field", "tenants.1.display_name"], environment: env)
      #expect(["Contoso\n", "Fabrikam Ltd\n"].contains(names.stdout), "\(names)")
      let admin = ["GUESTACCESS_SERVER": server.address, "GUESTACCESS_KEY": secret.stdout.trimmingCharacters(in: .whitespacesAndNewlines)]
      let settings = try await Tools.run("guestctl", ["settings", "show"], environment: admin)
      #expect(settings.stdout.contains("guest_invite_policy:") && settings.stdout.contains("EVERYONE"), "\(settings)")
      #expect(settings.stdout.contains("invitation_rate_window_seconds:") && settings.stdout.contains("1h"), "\(settings)")
    }
  }

  @Test func bulkInvitationsFromCSV() async throws {
    try await withToolServer { server in
      let contoso = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--domain", "contoso.com", "--admin-mail", "admin@contoso.com",
        key: server.operatorKey)
      let admin = contoso.adminSecret
      let group = try await server.guestctl(Group.self, "group", "create", "Vendors", key: admin)
      let csv = server.workDir + "/guests.csv"
      try """
        email,name,groups,apps
        ann@fabrikam.com,Ann,\(group.id),
        "bo, b@x.com",Bo,,
        carl@fabrikam.com,"Carl ""The Man"" C",grp_missing,

        """.write(toFile: csv, atomically: true, encoding: .utf8)
      let first = try await server.guestctl("invite", "bulk", "--csv", csv, "--idempotency-key", "run1", key: admin)
      #expect(first.status == 1, "\(first)")
      #expect(first.stderr == "error: 2 of 3 invitations failed\n")
      let results = try first.decode(CreateInvitationsResponse.self)
      #expect(results.succeededCount == 1 && results.failedCount == 2)
      #expect(results.results.map(\.index) == [0, 1, 2])
      #expect(results.results.map { StatusCode(rawValue: $0.code) } == [.ok, .invalidArgument, .notFound])
      #expect(results.results[0].invitation.grants.groupIDs == [group.id])
      #expect(results.results[0].invitation.invitedDisplayName == "Ann")
      // The same file with the same key is safe to run again: the same invitation comes back.
      let again = try await server.guestctl("invite", "bulk", "--csv", csv, "--idempotency-key", "run1", key: admin)
      let replay = try again.decode(CreateInvitationsResponse.self)
      #expect(replay.results[0].invitation.id == results.results[0].invitation.id)
      // Text output: one row per CSV row.
      let text = try await Tools.run(
        "guestctl", ["invite", "bulk", "--csv", csv, "--idempotency-key", "run1"],
        environment: ["GUESTACCESS_SERVER": server.address, "GUESTACCESS_KEY": admin])
      let rows = text.stdout.split(separator: "\n")
      #expect(rows.count == 5, "\(text)")
      #expect(rows[1].hasPrefix("1    ann@fabrikam.com") && rows[2].contains("INVALID_ARGUMENT") && rows[3].contains("NOT_FOUND"), "\(text)")
      let bad = server.workDir + "/bad.csv"
      try "name\nAnn\n".write(toFile: bad, atomically: true, encoding: .utf8)
      let noEmail = try await server.guestctl("invite", "bulk", "--csv", bad, key: admin)
      #expect(noEmail.status == 1 && noEmail.stderr.contains("email column"), "\(noEmail)")
    }
  }

  @Test func settingsAndCrossTenantPolicy() async throws {
    try await withToolServer { server in
      let op = server.operatorKey
      let contoso = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--admin-mail", "admin@contoso.com", key: op)
      let admin = contoso.adminSecret
      let settings = try await server.guestctl(
        TenantSettings.self, "settings", "set", "--invite-policy", "admins-and-guest-inviters", "--domain-mode", "allow-list",
        "--domains", "proseware.com,fabrikam.com", "--otp", "disabled", "--lifetime-days", "14", "--rate-window", "2h", key: admin)
      #expect(settings.guestInvitePolicy == .adminsAndGuestInviters && settings.collaborationDomainMode == .allowList)
      #expect(Set(settings.collaborationDomains) == ["proseware.com", "fabrikam.com"])
      #expect(settings.emailOtpMode == .disabled && settings.defaultInvitationLifetimeDays == 14)
      #expect(settings.invitationRateWindowSeconds == 7200)
      // Only the named settings change; the operator names the tenant.
      let changed = try await server.guestctl(
        TenantSettings.self, "settings", "set", "--access-level", "restricted", "--tenant", contoso.tenant.id, key: op)
      #expect(changed.guestAccessLevel == .restricted && changed.emailOtpMode == .disabled)
      // Who may send invitation email, and where redirects may point.
      let mail = try await server.guestctl(
        TenantSettings.self, "settings", "set", "--invitation-email", "admins-and-guest-inviters",
        "--redirect-allow", "https://apps.contoso.com/,https://portal.partner.example/", key: admin)
      #expect(mail.invitationEmailPolicy == .adminsAndGuestInviters)
      #expect(mail.redirectURLAllowList == ["https://apps.contoso.com/", "https://portal.partner.example/"])
      let unrestricted = try await server.guestctl(TenantSettings.self, "settings", "set", "--redirect-allow", "", key: admin)
      #expect(unrestricted.redirectURLAllowList.isEmpty && unrestricted.invitationEmailPolicy == .adminsAndGuestInviters)
      // Cross-tenant: rules not named keep their value; targets replace a rule's targets.
      let partner = "ten_partner"
      let blocked = try await server.guestctl(
        CrossTenantAccessEntry.self, "cross-tenant", "set", "--partner", partner, "--inbound-users", "block", "--targets",
        "inbound-users=user:usr_1,group:grp_2", key: admin)
      #expect(blocked.inbound.usersAndGroups.accessType == .blocked)
      #expect(blocked.inbound.usersAndGroups.targets.map(\.targetType) == [.user, .group])
      let apps = try await server.guestctl(
        CrossTenantAccessEntry.self, "cross-tenant", "set", "--partner", partner, "--outbound-apps", "allow", key: admin)
      #expect(apps.inbound.usersAndGroups.accessType == .blocked && apps.outbound.applications.accessType == .allowed)
      let policy = try await server.guestctl(CrossTenantAccessPolicy.self, "cross-tenant", "show", key: admin)
      #expect(policy.partners.map(\.partnerTenantID) == [partner])
      _ = try await server.guestctl(
        CrossTenantAccessEntry.self, "cross-tenant", "set", "--partner", partner, "--inbound-users", "unset", "--outbound-apps", "unset",
        key: admin)
      let cleared = try await server.guestctl(CrossTenantAccessPolicy.self, "cross-tenant", "show", key: admin)
      #expect(cleared.partners.isEmpty)
    }
  }

  @Test func auditFollowStreamsUntilStopped() async throws {
    try await withToolServer { server in
      let contoso = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--admin-mail", "admin@contoso.com", key: server.operatorKey)
      let env = ["GUESTACCESS_SERVER": server.address, "GUESTACCESS_KEY": contoso.adminSecret]
      // Follow for a while (stopped by the runner's timeout, as Ctrl-C would), creating a group meanwhile.
      async let followed = Tools.run("guestctl", ["audit", "follow", "--json"], environment: env, timeout: .seconds(3))
      try await Task.sleep(for: .milliseconds(800))
      _ = try await server.guestctl(Group.self, "group", "create", "Streamed", key: contoso.adminSecret)
      let result = try await followed
      let events = try result.stdout.split(separator: "\n").map { try JSONDecoder().decode(AuditEvent.self, from: Data($0.utf8)) }
      #expect(events.first?.action == .tenantCreated, "\(result)")
      #expect(events.last?.action == .groupCreated, "\(result)")
      #expect(events.map(\.sequence) == events.map(\.sequence).sorted())
    }
  }
}
