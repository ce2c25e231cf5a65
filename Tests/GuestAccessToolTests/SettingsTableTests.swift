import Foundation
import GuestAccessServer
import Testing

/// guestd's settings come from one table (`ServerSettings.table`): a bad value
/// in a flag or a variable is always an error naming both, and the README's
/// table is the same table.
@Suite("Settings table")
struct SettingsTableTests {
  /// Every setting: an empty or malformed value, from the environment or the
  /// flag, fails with both names (no silent fallback to the default).
  @Test func everyBadValueIsAnError() throws {
    for setting in ServerSettings.table {
      let free = ["a directory", "a URL", "a file"].contains(setting.accepts)
      for bad in free ? [""] : ["", "bogus", "12abc"] {
        for (flags, environment) in [([:], [setting.variable: bad]), ([setting.flag: bad], [:])] {
          do {
            _ = try ServerSettings(flags: flags, environment: environment)
            Issue.record("\(setting.flag) accepted \"\(bad)\"")
          } catch let error as SettingsError {
            #expect(error.description.contains("--\(setting.flag)") && error.description.contains(setting.variable), "\(error)")
          }
        }
      }
    }
  }

  /// The two of the report: a bad GUESTD_MAX_CONNECTIONS and a bad
  /// GUESTD_SWEEP_INTERVAL fail alike; so does an out-of-range one; the flag wins.
  @Test func badVariablesFailAlikeAndFlagsWin() throws {
    for variable in ["GUESTD_MAX_CONNECTIONS", "GUESTD_SWEEP_INTERVAL", "GUESTD_DRAIN_TIMEOUT", "GUESTD_INVITATION_RATE_LIMIT"] {
      #expect(throws: SettingsError.self) { _ = try ServerSettings(flags: [:], environment: [variable: "many"]) }
      #expect(throws: SettingsError.self) { _ = try ServerSettings(flags: [:], environment: [variable: "-5"]) }
    }
    let settings = try ServerSettings(
      flags: ["max-connections": "7", "drain-timeout": "2.5"], environment: ["GUESTD_MAX_CONNECTIONS": "9", "GUESTD_SWEEP_INTERVAL": "0"])
    #expect(settings.maxConnections == 7)
    #expect(settings.drainTimeout == 2.5)
    #expect(settings.sweepInterval == 0)
    let defaults = try ServerSettings(flags: [:], environment: [:])
    #expect(defaults.maxConnections == 10_000 && defaults.defaultInvitationRateLimit == 1000 && defaults.host == "127.0.0.1")
  }

  /// README.md's settings table lists exactly the table's flags, variables and defaults.
  @Test func readmeTableMatches() throws {
    let readme = try String(contentsOf: Tools.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    let lines = readme.split(separator: "\n").map(String.init)
    guard let header = lines.firstIndex(of: "| flag | environment | default | value |") else {
      Issue.record("README.md has no settings table")
      return
    }
    let rows = lines[(header + 2)...].prefix { $0.hasPrefix("|") }.map { line in
      line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    }
    let documented = rows.map { [$0[0], $0[1], $0[2]] }
    let table = ServerSettings.table.map { ["`--\($0.flag)`", "`\($0.variable)`", $0.defaultText] }
    #expect(documented == table)
  }
}
