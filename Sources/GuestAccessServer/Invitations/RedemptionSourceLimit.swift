import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// The per-source limit on failed redemptions, checked and counted inside the
/// redemption's own write transaction, so concurrent attempts from one source
/// can never evaluate more than the policy's `failuresPerSource` unknown
/// tickets or sessions per `failureWindow`: the single writer runs them one
/// after the other and each sees the count the previous one left.
///
/// The lockout refuses only lookups that miss (an unknown ticket or session
/// answers REDEMPTION_RATE_LIMITED instead of NOT_FOUND). A ticket or session
/// that exists is still evaluated, under its own limits (passcodes per ticket,
/// attempts per passcode), so an attacker sharing an address with a guest
/// cannot lock that guest out, and guessing stays bounded.
struct RedemptionSourceLimit: Sendable {
  /// Failure reasons that count against the source.
  static let countedReasons: Set<ErrorReason> = [
    .ticketNotFound, .sessionNotFound, .invitationEmailMismatch, .homeIdentityUnverified, .passcodeInvalid,
    .federatedStateUsed, .tokenNonceMismatch, .emailNotVerified,
  ]

  let key: String
  let now: Int64
  let limit: Int
  let windowMillis: Int64

  /// The limit on `counter` for the call's source address: failed
  /// redemptions and sign-ins share "redeem-fail" (`policy`'s failures per
  /// source); passcode sign-in starts count on "sign-in" with their own `limit`.
  /// The window is `policy`'s failure window.
  init(context: ServerContext, now: Int64, policy: RedemptionPolicy, limit: Int? = nil, counter: String = "redeem-fail") {
    key = counter + ":" + PeerAddress.host(of: context.peer)
    self.now = now
    self.limit = limit ?? policy.limits.failuresPerSource
    windowMillis = policy.limits.failureWindow.millis
  }

  /// Counts one attempt that is limited whatever its outcome (the start of a
  /// passcode sign-in, which answers alike for every address); throws
  /// REDEMPTION_RATE_LIMITED beyond the limit.
  func charge(_ writer: any DirectoryWriter) throws {
    if try countOne(writer) { throw rateLimited("too many sign-in attempts from this source; try again later") }
  }

  private func rateLimited(_ message: String) -> RPCError {
    let start = now - now % windowMillis
    return RPCError(
      code: .resourceExhausted, message: message, reason: .redemptionRateLimited,
      retryDelayMillis: UInt64(max(1, start + windowMillis - now)))
  }

  /// A lookup that missed: counted first (one atomic increment, so
  /// concurrent misses from several instances cannot all pass a check made
  /// before any of them counted), then REDEMPTION_RATE_LIMITED once the
  /// source is over its failures, else `notFound`.
  func missed(_ writer: any DirectoryWriter, _ notFound: RPCError) throws -> RPCError {
    try countOne(writer) ? rateLimited("too many failed redemption attempts from this source; try again later") : notFound
  }

  /// Counts a failure of an existing ticket or session (a wrong account, a
  /// wrong passcode) when `error` is one that counts; returns `error`.
  func counted(_ writer: any DirectoryWriter, _ error: RPCError) throws -> RPCError {
    if let reason = error.reason, Self.countedReasons.contains(reason) { _ = try countOne(writer) }
    return error
  }

  /// Adds one to the source's count in the window (one atomic increment);
  /// whether the source is now over its limit.
  private func countOne(_ writer: any DirectoryWriter) throws -> Bool {
    try writer.countInWindow(key: key, now: now, windowMillis: windowMillis, add: 1).count > limit
  }
}
