import ArgumentParser
import GuestAccessClient

/// `--targets RULE=TYPE:ID,…`: the targets of one rule.
struct RuleTargets: ExpressibleByArgument {
  let path: RuleSetting.Path
  let targets: [CrossTenantAccessTarget]

  init?(argument: String) {
    guard let equals = argument.firstIndex(of: "="), let path = RuleSetting.Path(rawValue: String(argument[..<equals])) else {
      return nil
    }
    var targets: [CrossTenantAccessTarget] = []
    for item in argument[argument.index(after: equals)...].split(separator: ",") {
      let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
      let id = parts.last ?? ""
      let kind = parts.count == 2 ? parts[0].lowercased() : (path.isApplications ? "app" : "user")
      let type: CrossTenantTargetType
      switch kind {
      case "user": type = .user
      case "group": type = .group
      case "app", "application": type = .application
      default: return nil
      }
      targets.append(CrossTenantAccessTarget(targetID: id, targetType: type))
    }
    self.path = path
    self.targets = targets
  }
}
