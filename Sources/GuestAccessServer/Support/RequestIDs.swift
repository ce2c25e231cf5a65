import GuestAccessCore

/// Request ids: every call has one, written on each audit event the call
/// causes. It is the caller's `x-request-id` (or `request-id`) metadata when
/// that is 1 to 128 printable ASCII characters (a longer one is cut to 128),
/// else one the server makes: `req_` and 32 hex digits.
///
/// A made id is derived, when the call first asks for it, from the call's
/// `ServerContext.serial` by a keyed pseudo-random function (SipHash with a
/// key drawn when the process starts): the same id on every use within the
/// call, with nothing kept per call and nothing done for the calls that
/// never ask (Health, reads). The output is 128 bits, so ids do not collide
/// across calls or processes in practice, and they reveal neither the serial
/// nor how many calls the server has served.
public enum RequestIDs {
  /// Characters a caller's request id keeps at most.
  public static let maxLength = 128

  /// The caller's id when usable, else nil.
  static func sent(_ metadata: Metadata) -> String? {
    guard let sent = metadata["x-request-id"] ?? metadata["request-id"], !sent.isEmpty,
      sent.utf8.allSatisfy({ (0x20...0x7E).contains($0) })
    else { return nil }
    return String(sent.prefix(maxLength))
  }

  /// The id the server makes for the call numbered `serial`.
  static func made(serial: UInt64) -> String {
    let words = [mix(serial, 0), mix(serial, 1)]
    return "req_" + Secrets.hex(words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * $0)) } })
  }

  /// 64 pseudo-random bits of (`serial`, `half`) under the process's key.
  private static func mix(_ serial: UInt64, _ half: UInt64) -> UInt64 {
    var hasher = Hasher()
    hasher.combine(key.0)
    hasher.combine(key.1)
    hasher.combine(serial)
    hasher.combine(half)
    return UInt64(bitPattern: Int64(hasher.finalize()))
  }

  /// Drawn once per process from the system's CSPRNG (Swift's own hash seed
  /// may be fixed by `SWIFT_DETERMINISTIC_HASHING`; this key never is).
  private static let key: (UInt64, UInt64) = {
    var generator = SystemRandomNumberGenerator()
    return (generator.next(), generator.next())
  }()
}

extension ServerContext {
  /// The call's request id (see `RequestIDs`).
  public var requestID: String {
    RequestIDs.sent(metadata) ?? RequestIDs.made(serial: serial)
  }
}
