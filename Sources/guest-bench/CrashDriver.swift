import ArgumentParser
import Foundation
import GuestAccessClient
import Synchronization

/// Parses HOST:PORT.
private func splitServer(_ server: String) throws -> (String, Int) {
  guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
    throw ValidationError("--server must be HOST:PORT")
  }
  return (String(server[..<colon]), port)
}

/// Creates a tenant whose invitation rate limit will not get in the way of a
/// crash test or a soak (with `--fixture`, also a member assigned to an
/// application, as `guest-load --admin-key` scenarios need); prints
/// `tenant_id admin_secret`.
struct CrashSetup: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crash-setup", abstract: "Create a tenant for Scripts/crash-test; print its id and admin key.")

  @Option var server: String = "127.0.0.1:7700"
  @Option var key: String
  @Flag(help: "Also create a member assigned to an application.") var fixture = false

  mutating func run() async throws {
    let (host, port) = try splitServer(server)
    let op = GuestAccessClient(host: host, port: port, credential: key)
    defer { op.close() }
    let suffix = UUID().uuidString.prefix(8).lowercased()
    let created = try await op.tenants.createTenant(CreateTenantRequest(
      displayName: "Crash \(suffix)", verifiedDomains: ["crash-\(suffix).example"], adminMail: "admin@crash-\(suffix).example",
      settings: TenantSettings(invitationRateLimit: 1_000_000, invitationRateWindowSeconds: 60)))
    if fixture {
      let admin = GuestAccessClient(host: host, port: port, credential: created.adminSecret)
      defer { admin.close() }
      let user = try await admin.tenants.createUser(CreateUserRequest(displayName: "Soak User", mail: "user@crash-\(suffix).example"))
      let app = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Soak App"))
      _ = try await admin.tenants.assignApplication(AssignApplicationRequest(applicationID: app.id, userID: user.id))
    }
    print("\(created.tenant.id) \(created.adminSecret)")
  }
}

/// Creates invitations from several clients, each on its own TCP connection,
/// for as long as it runs, appending `invitation_id email` of every
/// acknowledged CreateInvitation to a file (one write(2) per line on an
/// O_APPEND descriptor, so a line is in the file as soon as the call returned).
/// Failed calls (the server being killed and restarted under it) are counted
/// and retried with a new address after a short pause. Stops when the stop
/// file appears.
struct CrashWriter: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crash-writer", abstract: "Create invitations until told to stop; record every acknowledged one.")

  @Option var server: String = "127.0.0.1:7700"
  @Option(name: .customLong("admin-key")) var adminKey: String
  @Option(help: "File to append `invitation_id email` lines to.") var out: String
  @Option(name: .customLong("stop-file"), help: "Stop once this file exists.") var stopFile: String
  @Option(help: "Concurrent clients (one connection each).") var clients: Int = 8

  mutating func run() async throws {
    let (host, port) = try splitServer(server)
    let fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard fd >= 0 else { throw ValidationError("cannot open \(out)") }
    defer { close(fd) }
    let counters = CrashCounters()
    let run = UUID().uuidString.prefix(8).lowercased()
    let stopFile = self.stopFile
    let adminKey = self.adminKey
    await withTaskGroup(of: Void.self) { group in
      for worker in 0..<clients {
        group.addTask {
          let client = GuestAccessClient(
            host: host, port: port, credential: adminKey, connectTimeout: .seconds(1), retryPolicy: .none)
          defer { client.close() }
          var sequence = 0
          while !FileManager.default.fileExists(atPath: stopFile) {
            sequence += 1
            let email = "crash-\(run)-\(worker)-\(sequence)@partner.example"
            do {
              let response = try await client.invitations.createInvitation(
                CreateInvitationRequest(invitedEmail: email), options: CallOptions(timeout: .seconds(5)))
              let line = Array("\(response.invitation.id) \(email)\n".utf8)
              let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
              precondition(written == line.count, "short write to \(stopFile)")
              counters.a.add(1, ordering: .relaxed)
            } catch {
              counters.b.add(1, ordering: .relaxed)
              try? await Task.sleep(for: .milliseconds(20))
            }
          }
        }
      }
    }
    fsync(fd)
    FileHandle.standardError.write(Data(
      "crash-writer: \(counters.a.load(ordering: .relaxed)) acknowledged, \(counters.b.load(ordering: .relaxed)) failed calls\n".utf8))
  }
}

/// Reads the writer's file and checks that every recorded invitation is there
/// with the right address. Prints `recorded present missing wrong duplicate`
/// counts; exits 1 when any is missing or wrong.
struct CrashVerify: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crash-verify", abstract: "Check that every recorded invitation exists with the right email.")

  @Option var server: String = "127.0.0.1:7700"
  @Option(name: .customLong("admin-key")) var adminKey: String
  @Option(name: .customLong("in"), help: "The crash-writer's file.") var input: String
  @Option var concurrency: Int = 16

  mutating func run() async throws {
    let (host, port) = try splitServer(server)
    let text = try String(contentsOfFile: input, encoding: .utf8)
    var records: [(String, String)] = []
    var torn = 0
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2 { records.append((String(parts[0]), String(parts[1]))) } else { torn += 1 }
    }
    let duplicates = records.count - Set(records.map(\.0)).count
    let client = GuestAccessClient(host: host, port: port, credential: adminKey, connections: 2)
    defer { client.close() }
    let counters = CrashCounters()
    let all = records
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<concurrency {
        group.addTask {
          while true {
            let index = counters.d.add(1, ordering: .relaxed).oldValue
            guard index < all.count else { return }
            let (id, email) = all[index]
            do {
              let invitation = try await client.invitations.getInvitation(GetInvitationRequest(invitationID: id))
              if invitation.id == id && invitation.invitedEmail == email {
                counters.a.add(1, ordering: .relaxed)
              } else {
                counters.c.add(1, ordering: .relaxed)
                FileHandle.standardError.write(Data("wrong: \(id) \(email) -> \(invitation.id) \(invitation.invitedEmail)\n".utf8))
              }
            } catch {
              counters.b.add(1, ordering: .relaxed)
              FileHandle.standardError.write(Data("missing: \(id) \(email): \(error)\n".utf8))
            }
          }
        }
      }
    }
    let p = counters.a.load(ordering: .relaxed), m = counters.b.load(ordering: .relaxed), w = counters.c.load(ordering: .relaxed)
    print("recorded=\(records.count) present=\(p) missing=\(m) wrong=\(w) duplicate_ids=\(duplicates) torn_lines=\(torn)")
    if m > 0 || w > 0 || duplicates > 0 || torn > 0 { throw ExitCode(1) }
  }
}

/// Shared counters of the crash driver's tasks.
private final class CrashCounters: Sendable {
  let a = Atomic<Int>(0)
  let b = Atomic<Int>(0)
  let c = Atomic<Int>(0)
  let d = Atomic<Int>(0)
}
