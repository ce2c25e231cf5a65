import Foundation
import GuestAccessClient
import GuestAccessStorage
import Testing

/// `guestctl guest lookup` against a real server.
@Suite("guestctl guest lookup")
struct GuestLookupCommandTests {
  @Test func findsTheGuestLinkedToAFederatedIdentity() async throws {
    try await withToolServer { server in
      let contoso = try await server.guestctl(
        CreateTenantResponse.self, "tenant", "create", "Contoso", "--domain", "contoso.com", "--admin-mail", "admin@contoso.com",
        key: server.operatorKey)
      let admin = GuestAccessClient(host: "127.0.0.1", port: server.port, credential: contoso.adminSecret)
      defer { admin.close() }
      let invited = try await admin.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "gcarvalho@proseware.com"))
      let issuer = "https://login.proseware.com/v2.0"
      let link = FederatedLink(tenantID: contoso.tenant.id, userID: invited.invitation.guestUserID)
      try await server.app.store.write { try $0.linkFederatedIdentity(issuer: issuer, subject: "AAAA-giovanna", link) }
      let found = try await server.guestctl(User.self, "guest", "lookup", "--issuer", issuer, "--subject", "AAAA-giovanna", key: contoso.adminSecret)
      #expect(found.id == invited.invitation.guestUserID)
      let missing = try await server.guestctl("guest", "lookup", "--issuer", issuer, "--subject", "someone-else", key: contoso.adminSecret)
      #expect(missing.status != 0 && missing.stderr.contains("NOT_FOUND"), "\(missing)")
    }
  }
}
