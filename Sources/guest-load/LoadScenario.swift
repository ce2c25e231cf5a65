import ArgumentParser
import GuestAccessClient

/// What each call of a load run does.
enum LoadScenario: String, CaseIterable, ExpressibleByArgument {
  /// Health.Check of the whole server.
  case health

  /// Sets up what the scenario needs and returns the call to repeat.
  func prepare(client: GuestAccessClient, timeout: Double) async throws -> @Sendable () async throws -> Void {
    let options = CallOptions(timeout: timeout > 0 ? .microseconds(Int64(timeout * 1_000_000)) : nil)
    switch self {
    case .health:
      let request = HealthCheckRequest()
      let health = client.health
      return { _ = try await health.check(request, options: options) }
    }
  }
}
