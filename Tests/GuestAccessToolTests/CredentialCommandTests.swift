import Foundation
import GuestAccessClient
import Testing

/// `guestctl credential rotate` and `credential retire-bootstrap`, and the
/// `settings set --max-key-lifetime-days` flag, against a real server.
@Suite("guestctl credential")
struct CredentialCommandTests {
  @Test func rotateAndRetireTheBootstrapKey() async throws {
    try await withToolServer { server in
      // The bootstrap key alone cannot retire itself.
      let alone = try await server.guestctl("credential", "retire-bootstrap", key: server.operatorKey)
      #expect(alone.status == 2 + 9 && alone.stderr.contains("LAST_OPERATOR_CREDENTIAL"), "\(alone)")
      let issued = try await server.guestctl(
        "credential", "issue", "--operator", "--name", "ops", "--field", "secret", key: server.operatorKey)
      let second = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(issued.status == 0 && second.hasPrefix("gak_"), "\(issued)")
      let retired = try await server.guestctl("credential", "retire-bootstrap", key: second)
      #expect(retired.status == 0 && retired.stdout.contains("\"keyFileRemoved\" : true"), "\(retired)")
      #expect(!FileManager.default.fileExists(atPath: server.workDir + "/guestaccess-data/operator.key"))
      let refused = try await server.guestctl("tenant", "list", key: server.operatorKey)
      #expect(refused.stderr.contains("CREDENTIAL_REVOKED"), "\(refused)")

      // A tenant's admin sets a maximum key lifetime and rotates its own key.
      let secret = try await server.guestctl(
        "tenant", "create", "Contoso", "--domain", "contoso.com", "--admin-mail", "admin@contoso.com", "--field", "admin_secret", key: second)
      let admin = secret.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
      let settings = try await server.guestctl("settings", "set", "--max-key-lifetime-days", "90", key: admin)
      #expect(settings.status == 0 && settings.stdout.contains("\"maxCredentialLifetimeDays\" : 90"), "\(settings)")
      let id = try await server.guestctl("credential", "list", "--user", "self", "--field", "credentials.0.id", key: admin)
      let keyID = id.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(keyID.hasPrefix("key_"), "\(id)")
      // In text form: the new key, the old one's end, and the once-only warning.
      let rotated = try await Tools.run(
        "guestctl", ["credential", "rotate", keyID, "--grace", "2h"], environment: ["GUESTACCESS_SERVER": server.address, "GUESTACCESS_KEY": admin])
      #expect(rotated.status == 0, "\(rotated)")
      #expect(rotated.stdout.contains("replaced.revoke_at:") && rotated.stdout.contains("credential.replaces:"), "\(rotated)")
      #expect(rotated.stderr.contains("shown only once"), "\(rotated)")
      let again = try await server.guestctl("credential", "rotate", keyID, key: admin)
      #expect(again.stderr.contains("CREDENTIAL_ALREADY_ROTATED"), "\(again)")
    }
  }
}
