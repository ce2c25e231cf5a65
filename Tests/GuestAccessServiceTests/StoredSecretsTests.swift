import Foundation
import GuestAccessBase64
import GuestAccessClient
import GuestAccessServer
import GuestAccessStorage
import Logging
import Testing

/// What the data directory holds about tickets and passcodes: keyed hashes
/// only, no clear copy once an email is delivered, files private to their owner.
@Suite("Stored secrets")
struct StoredSecretsTests {
  /// Passcodes and tickets are stored as HMAC-SHA256 under the key in
  /// `hash.key` (0600), not as a plain SHA-256 anyone with the database could
  /// search; the key is needed: a server started with another key no longer
  /// knows the tickets.
  @Test func ticketsAndPasscodesAreStoredUnderTheHashKey() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-keyed-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let clock = TestClock()
    var ticket = ""
    var invitationID = ""
    try await withTestServer(dataDir: dataDir, clock: clock) { server in
      let keyFile = dataDir + "/" + SecretHasher.defaultFileName
      #expect(try Self.mode(keyFile) == 0o600)
      let keyText = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
      let key = try #require(Base64.url.decode(keyText))
      #expect(key.count == 32)
      let hasher = SecretHasher(key: key)
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "sam@contractor.example"))
      let issued = created.invitation.ticket
      ticket = issued
      invitationID = created.invitation.id
      let sent = try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: ticket))
      let passcode = try await server.queuedPasscode(invitationID: invitationID)
      let session = try await server.app.store.read { try $0.redemptionSession(id: sent.redemptionSessionID) }
      let stored = try #require(session).passcodeHash
      #expect(stored != Secrets.hash(passcode))
      #expect(stored == hasher.passcode(passcode, sessionID: sent.redemptionSessionID))
      let byKeyedTicket = try await server.app.store.read { try $0.invitation(ticketHash: hasher.ticket(issued)) }
      #expect(byKeyedTicket?.invitation.id == invitationID)
      let byPlainTicket = try await server.app.store.read { try $0.invitation(ticketHash: Secrets.hash(issued)) }
      #expect(byPlainTicket == nil)
    }
    // The same database with another key: the ticket is unknown.
    let keyFile = dataDir + "/" + SecretHasher.defaultFileName
    let original = try String(contentsOfFile: keyFile, encoding: .utf8)
    try (Base64.url.encode(Secrets.randomBytes(32)) + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
    try await withTestServer(dataDir: dataDir, clock: clock) { server in
      await expectError(.notFound, reason: .ticketNotFound) {
        try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: ticket))
      }
    }
    // A configured key file is used instead of hash.key; a missing one refuses to start.
    let configured = dataDir + "/configured.key"
    try original.write(toFile: configured, atomically: true, encoding: .utf8)
    try await withTestServer(dataDir: dataDir, clock: clock, configure: { $0.hashKeyFile = configured }) { server in
      let again = try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: ticket))
      #expect(again.result == .passcodeSent)
    }
    var settings = try ServerSettings(
      listen: "127.0.0.1:0", dataDir: dataDir, publicBaseURL: nil, logLevel: "error", drainTimeout: 1, maxConnections: 10,
      operatorKey: TestServer.operatorKey, environment: ["GUESTD_HASH_KEY_FILE": dataDir + "/missing.key"])
    #expect(settings.hashKeyFile == dataDir + "/missing.key")
    settings.email.pollInterval = 0.02
    #expect(throws: SettingsError.self) { _ = try GuestAccessServerApp(settings: settings, logger: .init(label: "test")) }
  }

  /// Upgrading from schema 4: open passcode sessions (plain SHA-256) are
  /// closed; pending tickets stored as a plain SHA-256 keep working.
  /// SQLite only: it rewrites the SQLite file as an older version left it.
  @Test(.enabled(if: TestDatabase.isSQLite, "reads the SQLite file"))
  func upgradeClosesOldPasscodeSessionsAndKeepsOldTickets() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-upgrade-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let clock = TestClock()
    var ticket = ""
    var sessionID = ""
    var invitationID = ""
    try await withTestServer(dataDir: dataDir, clock: clock) { server in
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "sam@contractor.example"))
      ticket = created.invitation.ticket
      invitationID = created.invitation.id
      sessionID = try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: ticket)).redemptionSessionID
    }
    // Turn the database back into what schema 4 wrote: plain hashes, version 4.
    do {
      let connection = try SQLiteConnection(path: dataDir + "/guestaccess.sqlite")
      try connection.execute("UPDATE invitations SET ticket_hash = x'\(Self.hex(Secrets.hash(ticket)))'")
      try connection.execute("UPDATE redemption_sessions SET passcode_hash = x'\(Self.hex(Secrets.hash("12345678")))'")
      // Tables of later versions go too (version 7: identity providers; 8: sign-in sessions; 9: federated sign-ins).
      try connection.execute(
        "DROP TABLE identity_providers; DROP TABLE federated_identities; DROP TABLE sign_in_sessions; DROP TABLE federated_sign_ins")
      try connection.execute("PRAGMA user_version = 4")
    }
    try await withTestServer(dataDir: dataDir, clock: clock) { server in
      await expectError(.failedPrecondition, reason: .passcodeAttemptsExceeded) {
        try await server.client(nil).invitations.completeRedemption(CompleteRedemptionRequest(redemptionSessionID: sessionID, passcode: "12345678"))
      }
      let again = try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: ticket))
      #expect(again.result == .passcodeSent)
      let passcode = try await server.queuedPasscode(invitationID: invitationID)
      let done = try await server.client(nil).invitations.completeRedemption(
        CompleteRedemptionRequest(redemptionSessionID: again.redemptionSessionID, passcode: passcode))
      #expect(done.guest.externalUserState == .accepted)
    }
  }

  /// After an invitation email and a passcode email were delivered, neither
  /// the ticket nor the passcode is anywhere in the database, its WAL or its
  /// shared-memory file (after a checkpoint, and after the server stopped);
  /// the files are 0600 and the data directory 0700, even when it was made
  /// world-readable beforehand.
  /// SQLite only: it scans the SQLite files (PostgreSQL keeps dead row versions until VACUUM; see docs/DEPLOYMENT.md).
  @Test(.enabled(if: TestDatabase.isSQLite, "reads the SQLite files"))
  func deliveredSecretsLeaveNoCopyInTheDatabaseFiles() async throws {
    let dataDir = NSTemporaryDirectory() + "guestaccess-erase-" + UUID().uuidString
    #expect(mkdir(dataDir, 0o755) == 0)
    #expect(chmod(dataDir, 0o755) == 0)
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let database = dataDir + "/guestaccess.sqlite"
    var secrets: [String] = []
    try await withTestServer(dataDir: dataDir) { server in
      #expect(try Self.mode(dataDir) == 0o700)
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.com")
      let admin = contoso.adminClient
      let created = try await admin.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "sam@contractor.example", sendInvitationMessage: true))
      let ticket = created.invitation.ticket
      try await eventually {
        try await admin.invitations.getInvitation(GetInvitationRequest(invitationID: created.invitation.id)).emailDelivery.status == .sent
      }
      let sent = try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: ticket))
      var passcode = ""
      try await eventually {
        let message = try await server.app.store.read { try $0.latestOutboxMessage(invitationID: created.invitation.id, kind: .passcode) }
        guard message?.status == .sent else { return false }
        passcode = try await server.queuedPasscode(invitationID: created.invitation.id)
        return !passcode.isEmpty
      }
      #expect(passcode.count == 8 && !sent.redemptionSessionID.isEmpty)
      secrets = [ticket, passcode]
      for suffix in ["", "-wal", "-shm"] { #expect(try Self.mode(database + suffix) == 0o600, "\(suffix)") }
      // A checkpoint while the server runs: the pages and the WAL hold no copy.
      let checkpointer = try SQLiteConnection(path: database)
      var busy: Int64 = 1
      for _ in 0..<50 where busy != 0 {
        busy = try checkpointer.first("PRAGMA wal_checkpoint(TRUNCATE)") { $0.int64(0) } ?? 1
        if busy != 0 { try await Task.sleep(for: .milliseconds(20)) }
      }
      #expect(busy == 0)
      for suffix in ["", "-wal", "-shm"] {
        for secret in secrets { #expect(!Self.file(database + suffix, contains: secret), "\(suffix) holds \(secret)") }
      }
    }
    #expect(secrets.count == 2)
    for suffix in ["", "-wal", "-shm"] {
      for secret in secrets { #expect(!Self.file(database + suffix, contains: secret), "\(suffix) holds \(secret) after stop") }
    }
    #expect(try Self.mode(database) == 0o600)
    #expect(try Self.mode(dataDir) == 0o700)
  }

  static func mode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
  }

  static func file(_ path: String, contains text: String) -> Bool {
    guard let data = FileManager.default.contents(atPath: path) else { return false }
    return data.range(of: Data(text.utf8)) != nil
  }

  static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
  }
}
