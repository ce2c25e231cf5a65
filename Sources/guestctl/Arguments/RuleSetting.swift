import ArgumentParser
import GuestAccessClient

/// A cross-tenant rule's access on the command line: allow, block or unset.
enum RuleSetting: String, CaseIterable, ExpressibleByArgument {
  case allow, block, unset

  /// The schema value.
  var accessType: CrossTenantAccessType {
    switch self {
    case .allow: return .allowed
    case .block: return .blocked
    case .unset: return .unspecified
    }
  }

  /// One of the four rules of an entry.
  enum Path: String, CaseIterable {
    case inboundUsers = "inbound-users", inboundApps = "inbound-apps", outboundUsers = "outbound-users", outboundApps = "outbound-apps"

    /// Whether the rule names applications (else users and groups).
    var isApplications: Bool { self == .inboundApps || self == .outboundApps }
  }
}
