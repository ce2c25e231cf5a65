import ArgumentParser
import GuestAccessClient

/// `guestctl my-tenants`: where the caller is a guest.
struct MyTenantsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "my-tenants", abstract: "List the tenants where you are a guest (act there with --tenant ID).")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var page: PageOptions

  mutating func run() async throws {
    let (tenants, next) = try await global.perform { client in
      try await page.collect { size, token in
        let response = try await client.guests.listMyGuestTenants(ListMyGuestTenantsRequest(pageSize: size, pageToken: token))
        return (response.tenants, response.nextPageToken)
      }
    }
    try global.output(ListMyGuestTenantsResponse(tenants: tenants, nextPageToken: next), next: next) {
      Table.guestTenants(tenants).render(empty: "you are not a guest anywhere")
    }
  }
}
