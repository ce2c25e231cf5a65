import GuestAccessProto
import GuestAccessLocks

/// Authenticated principals by credential hash and acting tenant, so that a
/// call with a known credential skips the database read.
///
/// Correctness rests on `DirectoryStore.authGeneration`: an entry is stored
/// with the generation read *before* the snapshot it came from, and is used
/// only while the generation is unchanged (a committed revocation, user or
/// tenant change, or rule change moves it before the write is acknowledged).
/// Time limits (credential expiry, a user's access expiry) are checked again
/// on every hit. Only successes are cached; failures always go to the store.
final class PrincipalCache: Sendable {
  struct Key: Hashable {
    var secretHash: [UInt8]
    var actingTenant: String
  }

  struct Entry {
    var principal: Principal
    var generation: UInt64
    /// The first instant (Unix ms) at which the principal stops being valid; `Int64.max` if none.
    var validUntil: Int64
  }

  private let entries = LockedValue<[Key: Entry]>([:])
  private let capacity: Int

  /// A cache of at most `capacity` principals; when full, an arbitrary tenth is dropped.
  init(capacity: Int = 10_000) {
    self.capacity = capacity
  }

  /// The cached principal for `key`, if stored at `generation` and still valid at `now`.
  func principal(for key: Key, generation: UInt64, now: Int64) -> Principal? {
    entries.withLock { entries in
      guard let entry = entries[key] else { return nil }
      guard entry.generation == generation, now < entry.validUntil else {
        entries[key] = nil
        return nil
      }
      return entry.principal
    }
  }

  /// Stores `principal`, authenticated from a snapshot that began at `generation`.
  func store(_ principal: Principal, for key: Key, generation: UInt64) {
    let entry = Entry(principal: principal, generation: generation, validUntil: Self.validUntil(principal))
    entries.withLock { entries in
      if entries.count >= capacity {
        // Dictionary order is arbitrary: this drops a pseudo-random tenth, not the whole working set.
        for victim in entries.keys.prefix(max(1, capacity / 10)) { entries[victim] = nil }
      }
      entries[key] = entry
    }
  }

  /// The earliest time limit among what authentication checked against the clock.
  static func validUntil(_ principal: Principal) -> Int64 {
    var limit = Int64.max
    func bound(_ time: Int64) { if time != 0 { limit = min(limit, time) } }
    bound(principal.credentialExpiresAt)
    for user in [principal.homeUser, principal.actingUser].compactMap({ $0 }) {
      bound(user.accessExpiresAt)
    }
    return limit
  }
}
