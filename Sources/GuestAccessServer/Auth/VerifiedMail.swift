import GuestAccessProto
import GuestAccessStorage

/// Identity rooted in verified domains (docs/SECURITY.md, "Identity"): a
/// member's mail proves an address only when its domain is a verified
/// domain of the member's own tenant, and a verified domain belongs to one
/// tenant at most. Only such a member's credential may redeem another
/// tenant's invitation to that address.
enum VerifiedMail {
  /// The domain part of an address, lowercased ("" without one).
  static func domain(of mail: String) -> String { MailVerification.domain(of: mail) }

  /// Whether `user`'s mail is verified, given the verified domains of its tenant.
  static func isVerified(_ user: User, tenantDomains: [String]) -> Bool {
    MailVerification.isVerified(user, tenantDomains: tenantDomains)
  }

  /// Whether `user`'s mail is verified now, read from the store (the rule the
  /// redemption applies, whatever the stored flag says).
  static func isVerified(_ user: User, reader: any DirectoryReader) throws -> Bool {
    guard let tenant = try reader.tenant(id: user.tenantID) else { return false }
    return isVerified(user, tenantDomains: tenant.verifiedDomains)
  }

  /// Marks every member of a tenant after its verified domains changed.
  static func refresh(tenantID: String, domains: [String], writer: any DirectoryWriter) throws {
    var filter = UserFilter()
    filter.userType = .member
    var cursor = ""
    while true {
      let page = try writer.users(tenantID: tenantID, filter: filter, after: cursor, limit: 500)
      for var user in page {
        let verified = isVerified(user, tenantDomains: domains)
        if verified != user.mailVerified {
          user.mailVerified = verified
          try writer.updateUser(user)
        }
      }
      guard page.count == 500, let last = page.last else { return }
      cursor = last.id
    }
  }
}
