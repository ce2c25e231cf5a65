import GuestAccessLocks
import GuestAccessProto
import GuestAccessStorage

/// Records `last_used_at` of credentials (about a minute's granularity) and
/// `last_sign_in_at` of acting users (about an hour's), off the call's path,
/// so that authentication stays a read.
final class ActivityRecorder: Sendable {
  private let store: any DirectoryStore
  private let clock: any ServerClock
  private let recent = LockedValue<[String: Int64]>([:])

  init(store: any DirectoryStore, clock: any ServerClock) {
    self.store = store
    self.clock = clock
  }

  func record(_ principal: Principal, now: Int64) {
    var due: [(kind: String, id: String, tenant: String)] = []
    recent.withLock { seen in
      if seen.count > 100_000 { seen.removeAll() }
      // A provider token has no credential (credentialID "").
      if !principal.credentialID.isEmpty, now - (seen["c:" + principal.credentialID] ?? 0) > 60_000 {
        seen["c:" + principal.credentialID] = now
        due.append(("credential", principal.credentialID, principal.homeUser?.tenantID ?? ""))
      }
      if let user = principal.actingUser, now - (seen["u:" + user.id] ?? 0) > 3_600_000 {
        seen["u:" + user.id] = now
        due.append(("user", user.id, user.tenantID))
      }
    }
    guard !due.isEmpty else { return }
    let store = self.store
    let items = due
    Task.detached {
      _ = try? await store.write { writer in
        for item in items {
          if item.kind == "credential" {
            // Not an update: last use is not something authentication reads, so cached principals stay valid.
            try writer.touchCredential(id: item.id, lastUsedAt: now)
          } else if item.kind == "user", let user = try writer.user(tenantID: item.tenant, id: item.id),
            now - user.lastSignInAt > 3_600_000
          {
            // Likewise: sign-in times are not read by authentication.
            try writer.touchUser(id: user.id, lastSignInAt: now)
          }
        }
      }
    }
  }
}
