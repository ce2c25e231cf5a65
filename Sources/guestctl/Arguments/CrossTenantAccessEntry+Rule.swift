import GuestAccessClient

/// The four rules of an entry addressed by `RuleSetting.Path`.
extension CrossTenantAccessEntry {
  /// One of the entry's four rules.
  subscript(rule path: RuleSetting.Path) -> CrossTenantAccessRule {
    get {
      switch path {
      case .inboundUsers: return inbound.usersAndGroups
      case .inboundApps: return inbound.applications
      case .outboundUsers: return outbound.usersAndGroups
      case .outboundApps: return outbound.applications
      }
    }
    set {
      switch path {
      case .inboundUsers: inbound.usersAndGroups = newValue
      case .inboundApps: inbound.applications = newValue
      case .outboundUsers: outbound.usersAndGroups = newValue
      case .outboundApps: outbound.applications = newValue
      }
    }
  }
}
