import ArgumentParser
import GuestAccessClient

/// Schema enums as command-line values: the short name in any case, with
/// dashes or underscores (`admins-and-guest-inviters`), the full schema name,
/// or an unambiguous prefix of the short name (`pending` for
/// `PENDING_ACCEPTANCE`).
extension ExpressibleByArgument where Self: ProtoEnum {
  public init?(argument: String) {
    let wanted = argument.uppercased().replacingOccurrences(of: "-", with: "_")
    let named = Self.knownCases.filter { $0.rawValue != 0 }
    if let exact = named.first(where: { Display.shortName($0) == wanted || $0.protoName == wanted }) {
      self = exact
      return
    }
    let candidates = named.filter { Display.shortName($0).hasPrefix(wanted) }
    guard !wanted.isEmpty, candidates.count == 1 else { return nil }
    self = candidates[0]
  }

  public static var allValueStrings: [String] {
    knownCases.filter { $0.rawValue != 0 }.map { Display.shortName($0).lowercased().replacingOccurrences(of: "_", with: "-") }
  }

  public var defaultValueDescription: String {
    Display.shortName(self).lowercased().replacingOccurrences(of: "_", with: "-")
  }
}

extension Role: ExpressibleByArgument {}
extension UserType: ExpressibleByArgument {}
extension TenantState: ExpressibleByArgument {}
extension GuestInvitePolicy: ExpressibleByArgument {}
extension GuestAccessLevel: ExpressibleByArgument {}
extension CollaborationDomainMode: ExpressibleByArgument {}
extension EmailOtpMode: ExpressibleByArgument {}
extension InvitationEmailPolicy: ExpressibleByArgument {}
extension IdentityProviderUse: ExpressibleByArgument {}
extension RedemptionStep: ExpressibleByArgument {}
extension CredentialState: ExpressibleByArgument {}
extension InvitationStatus: ExpressibleByArgument {}
extension ExternalUserState: ExpressibleByArgument {}
extension AccessReviewScope: ExpressibleByArgument {}
extension AccessReviewStatus: ExpressibleByArgument {}
extension ReviewDecisionType: ExpressibleByArgument {}
extension AuditAction: ExpressibleByArgument {}
extension AuditOutcome: ExpressibleByArgument {}
