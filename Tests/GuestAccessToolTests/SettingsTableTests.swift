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

  /// README.md's settings table, its TLS table and docs/EMAIL.md's table list
  /// exactly the tables' flags, variables and defaults.
  @Test func documentedTablesMatch() throws {
    try expectDocumented(ServerSettings.table, in: "README.md", header: "| flag | environment | default | value |")
    try expectDocumented(TLSSettings.table, in: "README.md", header: "| TLS flag | environment | default | value |")
    try expectDocumented(EmailSettings.table, in: "docs/EMAIL.md", header: "| flag | environment | default | what |")
  }

  /// Every email and TLS setting: a malformed value from the flag or the
  /// variable fails with both names.
  @Test func badEmailAndTLSValuesAreErrors() throws {
    let checks: [(any SettingDescription, ([String: String], [String: String]) throws -> Void)] =
      EmailSettings.table.map { setting in
        (setting, { flags, environment in _ = try EmailSettings(flags: flags, publicBaseURL: "https://guests.example", environment: environment) })
      } + TLSSettings.table.map { setting in
        (setting, { flags, environment in _ = try TLSSettings(flags: flags, host: "127.0.0.1", environment: environment) })
      }
    for (setting, read) in checks {
      let free = ["a directory", "a file", "a host name or address", "a user name", "a password"].contains(setting.accepts)
      for bad in free ? [""] : ["", "bogus", "12abc"] {
        for (flags, environment) in [([:], [setting.variable: bad]), ([setting.flag: bad], [:])] {
          do {
            try read(flags, environment)
            Issue.record("\(setting.flag) accepted \"\(bad)\"")
          } catch let error as SettingsError {
            #expect(error.description.contains("--\(setting.flag)") && error.description.contains(setting.variable), "\(error)")
          }
        }
      }
    }
  }

  private func expectDocumented(_ table: [any SettingDescription], in file: String, header: String) throws {
    let text = try String(contentsOf: Tools.repositoryRoot.appendingPathComponent(file), encoding: .utf8)
    let lines = text.split(separator: "\n").map(String.init)
    guard let start = lines.firstIndex(of: header) else {
      Issue.record("\(file) has no table \(header)")
      return
    }
    let rows = lines[(start + 2)...].prefix { $0.hasPrefix("|") }.map { line in
      line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    }
    #expect(rows.map { [$0[0], $0[1], $0[2]] } == table.map { ["`--\($0.flag)`", "`\($0.variable)`", $0.defaultText] }, "\(file)")
  }
}
