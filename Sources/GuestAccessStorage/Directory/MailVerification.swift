import GuestAccessProto

/// The rule behind `User.mail_verified` (docs/SECURITY.md, "Identity"): a
/// member's mail is verified when its domain is one of its own tenant's
/// verified domains and the member was created in that tenant (not invited:
/// an invited user's address is proven elsewhere). Guests never are.
public enum MailVerification {
  /// The domain part of an address, lowercased ("" without one).
  public static func domain(of mail: String) -> String {
    String(mail.lowercased().split(separator: "@", omittingEmptySubsequences: false).last ?? "")
  }

  /// Whether `user`'s mail is verified, given the verified domains of its tenant.
  public static func isVerified(_ user: User, tenantDomains: [String]) -> Bool {
    guard user.userType == .member, user.creationType != .invitation else { return false }
    let domain = domain(of: user.mail)
    return !domain.isEmpty && tenantDomains.contains(domain)
  }
}
