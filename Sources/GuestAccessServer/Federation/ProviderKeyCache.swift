import GuestAccessLocks

/// Where an issuer's key set comes from: discovery, then its `jwks_uri`.
public protocol ProviderKeySource: Sendable {
  /// The JWKS document of `issuer`.
  func keySet(issuer: String) async throws -> [UInt8]
}

/// The signing keys of every issuer in use, kept between tokens: fetched on
/// first use (retried at most every 10 s while that fails), refetched when a
/// token names an unknown `kid` at most once per `refetchInterval` per issuer,
/// and the last good set kept when a fetch fails or returns no usable key.
public final class ProviderKeyCache: Sendable {
  /// Least time between two fetches of one issuer's keys for unknown `kid`s.
  public static let defaultRefetchInterval: Duration = .seconds(300)

  /// Least time between two attempts while an issuer's keys were never fetched.
  public static let coldRetryInterval: Duration = .seconds(10)

  private struct Entry {
    var keys: [JSONWebKey] = []
    var fetched = false
    /// The last attempt while never fetched, and the last refetch for an unknown kid after.
    var lastAttempt: ContinuousClock.Instant?
    var lastRefetch: ContinuousClock.Instant?
  }

  private let source: any ProviderKeySource
  private let refetchInterval: Duration
  private let entries = LockedValue<[String: Entry]>([:])
  private let fetchCount = LockedValue(0)

  /// A cache over `source`.
  public init(source: any ProviderKeySource, refetchInterval: Duration = defaultRefetchInterval) {
    self.source = source
    self.refetchInterval = refetchInterval
  }

  /// Fetches so far (all issuers): for tests and metrics.
  public var fetches: Int { fetchCount.withLock { $0 } }

  /// The key for `parsed` from `issuer`'s set: from the cache when known,
  /// else after at most one fetch (none when one ran within the interval).
  /// TOKEN_KEY_UNKNOWN when the set has no such key; PROVIDER_KEYS_UNAVAILABLE
  /// when nothing was ever fetched.
  public func key(issuer: String, for parsed: IDTokenValidator.Parsed) async throws(TokenRefusal) -> JSONWebKey {
    let now = ContinuousClock.now
    let (cached, mayFetch) = entries.withLock { entries -> (JSONWebKey?, Bool) in
      let entry = entries[issuer] ?? Entry()
      if let key = IDTokenValidator.key(for: parsed, in: entry.keys) { return (key, false) }
      if entry.fetched {
        let due = entry.lastRefetch.map { now - $0 >= refetchInterval } ?? true
        if due { entries[issuer, default: Entry()].lastRefetch = now }
        return (nil, due)
      }
      let due = entry.lastAttempt.map { now - $0 >= min(refetchInterval, Self.coldRetryInterval) } ?? true
      if due { entries[issuer, default: Entry()].lastAttempt = now }
      return (nil, due)
    }
    if let cached { return cached }
    if mayFetch {
      fetchCount.withLock { $0 += 1 }
      if let bytes = try? await source.keySet(issuer: issuer), let keys = try? JSONWebKey.keySet(fromJSON: bytes), !keys.isEmpty {
        entries.withLock { entries in
          entries[issuer, default: Entry()].keys = keys
          entries[issuer, default: Entry()].fetched = true
        }
      }
    }
    let (found, everFetched) = entries.withLock { entries in
      (entries[issuer].flatMap { IDTokenValidator.key(for: parsed, in: $0.keys) }, entries[issuer]?.fetched ?? false)
    }
    if let found { return found }
    throw everFetched ? .unknownKey : .keysUnavailable
  }
}
