import Foundation
import GuestAccessClient
import Testing

/// The README quick start through `guestctl` against a real server: the
/// seed's story of Contoso inviting Giovanna from Proseware, command by
/// command with `--json`, and the README's own shell session run verbatim.
@Suite("Quick start")
struct QuickStartTests {
  @Test func storyWithJSON() async throws {
    try await withToolServer { server in
      let op = server.operatorKey
      // The operator creates the two tenants.
      let contoso = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--domain", "contoso.com", "--admin-name", "Contoso Admin",
        "--admin-mail", "admin@contoso.com", key: op)
      #expect(contoso.tenant.displayName == "Contoso" && contoso.tenant.state == .active)
      #expect(contoso.tenant.verifiedDomains == ["contoso.com"])
      #expect(contoso.admin.roles == [.globalAdmin] && contoso.admin.mail == "admin@contoso.com")
      #expect(contoso.adminSecret.hasPrefix("gak_"))
      let proseware = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Proseware", "--domain", "proseware.com", "--admin-mail", "admin@proseware.com",
        key: op)
      let tenants = try await server.guestctl(ListTenantsResponse.self, "tenant", "list", key: op)
      #expect(Set(tenants.tenants.map(\.displayName)) == ["Contoso", "Proseware"])
      // Proseware's admin creates Giovanna and issues her a key.
      let giovanna = try await server.guestctl(
        User.self, "user", "create", "Giovanna Carvalho", "--mail", "gcarvalho@proseware.com", key: proseware.adminSecret)
      #expect(giovanna.userType == .member && giovanna.tenantID == proseware.tenant.id)
      let issued = try await server.guestctl(
        IssueCredentialResponse.self, "credential", "issue", "--user", giovanna.id, "--name", "laptop", key: proseware.adminSecret)
      #expect(issued.credential.userID == giovanna.id && issued.credential.state == .active)
      let giovannaKey = issued.secret
      // Contoso creates a group and an application and invites her to both.
      let admin = contoso.adminSecret
      let group = try await server.guestctl(Group.self, "group", "create", "Marketing", key: admin)
      let app = try await server.guestctl(Application.self, "app", "create", "Campaign planner", key: admin)
      let created = try await server.guestctl(
        CreateInvitationResponse.self, "invite", "gcarvalho@proseware.com", "--name", "Giovanna Carvalho", "--group", group.id,
        "--app", app.id, "--message", "Welcome aboard!", key: admin)
      let invitation = created.invitation
      #expect(!created.alreadyPending && invitation.status == .pendingAcceptance)
      #expect(invitation.grants == InvitationGrants(groupIDs: [group.id], applicationIDs: [app.id]))
      #expect(invitation.redeemURL.hasPrefix("https://guests.example.test/redeem?ticket="))
      let listed = try await server.guestctl(ListInvitationsResponse.self, "invitation", "list", "--status", "pending", key: admin)
      #expect(listed.invitations.map(\.id) == [invitation.id])
      // Giovanna redeems with her Proseware key and sees Contoso among her guest tenants.
      let redeemed = try await server.guestctl(RedeemInvitationResponse.self, "redeem", invitation.redeemURL, key: giovannaKey)
      #expect(redeemed.result == .accepted && redeemed.tenantID == contoso.tenant.id)
      #expect(redeemed.guest.id == invitation.guestUserID && redeemed.guest.externalUserState == .accepted)
      let guestID = redeemed.guest.id
      let mine = try await server.guestctl(ListMyGuestTenantsResponse.self, "my-tenants", key: giovannaKey)
      #expect(mine.tenants.map(\.tenantID) == [contoso.tenant.id])
      let apps = try await server.guestctl(
        ListApplicationsResponse.self, "app", "list", "--tenant", contoso.tenant.id, key: giovannaKey)
      #expect(apps.applications.map(\.id) == [app.id])
      // Contoso's check says allowed; so does hers, as herself.
      let allowed = try await server.guestctl(
        CheckAccessResponse.self, "check-access", "--user", guestID, "--app", app.id, key: admin)
      #expect(allowed.allowed && allowed.reason == .applicationAssigned)
      let inGroup = try await server.guestctl(
        CheckAccessResponse.self, "check-access", "--tenant", contoso.tenant.id, "--group", group.id, key: giovannaKey)
      #expect(inGroup.allowed && inGroup.reason == .groupMember && inGroup.principalUserID == guestID)
      // Contoso removes her: the check says not allowed and her calls in Contoso fail.
      let removed = try await server.guestctl(User.self, "guest", "remove", guestID, key: admin)
      #expect(removed.deletedAt != 0)
      let denied = try await server.guestctl(
        CheckAccessResponse.self, "check-access", "--user", guestID, "--app", app.id, key: admin)
      #expect(!denied.allowed && denied.reason == .guestRemoved)
      let refused = try await server.guestctl("app", "list", "--tenant", contoso.tenant.id, key: giovannaKey)
      #expect(refused.status == 2 + 7, "\(refused)")
      #expect(refused.stdout.isEmpty)
      #expect(refused.stderr.hasPrefix("error: PERMISSION_DENIED: "), "\(refused)")
      // Her home account still works; the audit log tells the story.
      let home = try await server.guestctl(Tenant.self, "tenant", "get", key: giovannaKey)
      #expect(home.id == proseware.tenant.id)
      let audit = try await server.guestctl(ListAuditEventsResponse.self, "audit", "list", "--all", key: admin)
      let actions = audit.events.map(\.action)
      for action in [AuditAction.invitationCreated, .invitationRedeemed, .guestRemoved] { #expect(actions.contains(action)) }
    }
  }

  /// The README's quick start session, run as written by bash: it must
  /// succeed and print what its comments promise.
  @Test func readmeSessionRuns() async throws {
    let script = try QuickStartScript.fromReadme()
    #expect(script.contains("guestctl invite"))
    try await withToolServer { server in
      let result = try await Tools.run(
        "/bin/bash", ["-euo", "pipefail", "-c", script],
        environment: [
          "PATH": Tools.productsDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
          "GUESTACCESS_SERVER": server.address,
        ], directory: server.workDir)
      #expect(result.status == 0, "\(result)")
      #expect(result.stdout.contains("allowed: APPLICATION_ASSIGNED"), "\(result)")
      #expect(result.stdout.contains("denied: GUEST_REMOVED"), "\(result)")
      #expect(result.stderr.contains("error: PERMISSION_DENIED"), "\(result)")
      #expect(result.stdout.contains("INVITATION_REDEEMED"), "\(result)")
    }
  }
}

/// The shell session of README.md's quick start: the code block between
/// `<!-- quickstart-session -->` and `<!-- /quickstart-session -->`.
enum QuickStartScript {
  static func fromReadme() throws -> String {
    let readme = try String(contentsOf: Tools.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    guard let start = readme.range(of: "<!-- quickstart-session -->"), let end = readme.range(of: "<!-- /quickstart-session -->"),
      start.upperBound < end.lowerBound
    else {
      Issue.record("README.md has no quickstart-session block")
      return ""
    }
    return readme[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.hasPrefix("```") }.joined(separator: "\n")
  }
}
