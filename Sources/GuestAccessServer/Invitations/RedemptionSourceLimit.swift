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
  ]

  let key: String
  let now: Int64
  let limit: Int
  let windowMillis: Int64

  init(context: ServerContext, now: Int64, policy: RedemptionPolicy) {
    key = "redeem-fail:" + PeerAddress.host(of: context.peer)
    self.now = now
    limit = policy.limits.failuresPerSource
    windowMillis = policy.limits.failureWindow.millis
  }

  /// A lookup that missed: REDEMPTION_RATE_LIMITED once the source has used
  /// up its failures, else `notFound`, counted.
  func missed(_ writer: any DirectoryWriter, _ notFound: RPCError) throws -> RPCError {
    let start = now - now % windowMillis
    guard try writer.failureCount(key: key, now: now, windowMillis: windowMillis) < limit else {
      return RPCError(
        code: .resourceExhausted,
        message: "too many failed redemption attempts from this source; try again later",
        reason: .redemptionRateLimited,
        retryDelayMillis: UInt64(max(1, start + windowMillis - now)))
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
    _ = try writer.countInWindow(key: key, now: now, windowMillis: windowMillis, add: 1)
  }
}
