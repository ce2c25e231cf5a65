import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// The per-source limit on failed redemptions, checked and counted inside the
/// redemption's own write transaction, so concurrent attempts from one source
/// can never evaluate more than `InvitationServiceImpl.failuresPerSource`
/// unknown tickets or sessions per window: the single writer runs them one
/// after the other and each sees the count the previous one left.
///
/// The lockout refuses only lookups that miss (an unknown ticket or session
/// answers REDEMPTION_RATE_LIMITED instead of NOT_FOUND). A ticket or session
/// that exists is still evaluated, under its own limits (passcodes per ticket,
/// attempts per passcode), so an attacker sharing an address with a guest
/// cannot lock that guest out, and guessing stays bounded.
struct RedemptionSourceLimit: Sendable {
  /// Failures counted per source and window.
  static let windowMillis: Int64 = 600_000
  /// Failure reasons that count against the source.
  static let countedReasons: Set<ErrorReason> = [
    .ticketNotFound, .sessionNotFound, .invitationEmailMismatch, .homeIdentityUnverified, .passcodeInvalid,
  ]

  let key: String
  let now: Int64
  let limit: Int

  /// The limit of `limit` per window on `counter` (failed redemptions and
  /// sign-ins share "redeem-fail"; passcode sign-in starts count on "sign-in")
  /// for the call's source address.
  init(context: ServerContext, now: Int64, limit: Int, counter: String = "redeem-fail") {
    key = counter + ":" + PeerAddress.host(of: context.peer)
    self.now = now
    self.limit = limit
  }

  /// Counts one attempt that is limited whatever its outcome (the start of a
  /// passcode sign-in, which answers alike for every address); throws
  /// REDEMPTION_RATE_LIMITED beyond the limit.
  func charge(_ writer: any DirectoryWriter) throws {
    let used = try writer.countInWindow(key: key, now: now, windowMillis: Self.windowMillis, add: 1)
    guard used.count <= limit else { throw rateLimited("too many sign-in attempts from this source; try again later") }
  }

  private func rateLimited(_ message: String) -> RPCError {
    let start = now - now % Self.windowMillis
    return RPCError(
      code: .resourceExhausted, message: message, reason: .redemptionRateLimited,
      retryDelayMillis: UInt64(max(1, start + Self.windowMillis - now)))
  }

  /// A lookup that missed: REDEMPTION_RATE_LIMITED once the source has used
  /// up its failures, else `notFound`, counted.
  func missed(_ writer: any DirectoryWriter, _ notFound: RPCError) throws -> RPCError {
    guard try writer.failureCount(key: key, now: now, windowMillis: Self.windowMillis) < limit else {
      return rateLimited("too many failed redemption attempts from this source; try again later")
    }
    try recordFailure(writer)
    return notFound
  }

  /// Counts a failure of an existing ticket or session (a wrong account, a
  /// wrong passcode) when `error` is one that counts; returns `error`.
  func counted(_ writer: any DirectoryWriter, _ error: RPCError) throws -> RPCError {
    if let reason = error.reason, Self.countedReasons.contains(reason) { try recordFailure(writer) }
    return error
  }

  private func recordFailure(_ writer: any DirectoryWriter) throws {
    _ = try writer.countInWindow(key: key, now: now, windowMillis: Self.windowMillis, add: 1)
  }
}
