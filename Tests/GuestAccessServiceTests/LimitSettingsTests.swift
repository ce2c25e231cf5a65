import GuestAccessServer
import Testing

/// The limits on every client as `guestd` settings: defaults, flag over
/// environment, and a bad value an error (never a silent default).
@Suite struct LimitSettingsTests {
  func settings(_ environment: [String: String], maxConnectionsPerPeer: Int? = nil) throws -> ServerSettings {
    try ServerSettings(
      listen: nil, dataDir: nil, publicBaseURL: nil, logLevel: nil, drainTimeout: nil, maxConnections: nil,
      maxConnectionsPerPeer: maxConnectionsPerPeer, environment: environment)
  }

  @Test func defaults() throws {
    let defaults = try settings([:])
    #expect(defaults.maxConnections == 10_000)
    #expect(defaults.maxConnectionsPerPeer == 256)
    #expect(defaults.maxCallsBeforeAuthentication == 16)
    #expect(defaults.memoryBudgetMiB == 256)
    #expect(defaults.sendTimeout == 30)
  }

  @Test func environmentAndFlags() throws {
    let set = try settings([
      "GUESTD_MAX_CONNECTIONS_PER_PEER": "1000", "GUESTD_MAX_CALLS_BEFORE_AUTH": "64",
      "GUESTD_MEMORY_BUDGET_MIB": "1024", "GUESTD_SEND_TIMEOUT": "2.5",
    ])
    #expect(set.maxConnectionsPerPeer == 1000)
    #expect(set.maxCallsBeforeAuthentication == 64)
    #expect(set.memoryBudgetMiB == 1024)
    #expect(set.sendTimeout == 2.5)
    #expect(try settings(["GUESTD_MAX_CONNECTIONS_PER_PEER": "1000"], maxConnectionsPerPeer: 3).maxConnectionsPerPeer == 3)
  }

  @Test(arguments: [
    ("GUESTD_MAX_CONNECTIONS", "lots"), ("GUESTD_MAX_CONNECTIONS", "0"),
    ("GUESTD_MAX_CONNECTIONS_PER_PEER", "many"), ("GUESTD_MAX_CONNECTIONS_PER_PEER", "0"),
    ("GUESTD_MAX_CALLS_BEFORE_AUTH", "-1"), ("GUESTD_MAX_CALLS_BEFORE_AUTH", "1e3"),
    ("GUESTD_MEMORY_BUDGET_MIB", "8"), ("GUESTD_MEMORY_BUDGET_MIB", "256MiB"),
    ("GUESTD_SEND_TIMEOUT", "0"), ("GUESTD_SEND_TIMEOUT", "soon"),
  ])
  func badValuesAreErrors(variable: String, value: String) {
    let error = #expect(throws: SettingsError.self) { try settings([variable: value]) }
    #expect(error?.description.contains(variable) == true, "\(error?.description ?? "")")
  }
}
