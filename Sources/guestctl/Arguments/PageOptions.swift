import ArgumentParser

/// Paging options of list commands: one page by default, `--all` follows
/// every page.
struct PageOptions: ParsableArguments {
  @Option(name: .customLong("page-size"), help: "Items per page (default 50, at most 1000).")
  var pageSize: Int32?

  @Option(name: .customLong("page-token"), help: "Continue from a previous listing's next page token.")
  var pageToken: String?

  @Flag(help: "Fetch every page.")
  var all = false

  /// Calls `fetch(pageSize, token)` for one page, or for every page with
  /// `--all`; returns the items and the next page token (empty at the end).
  func collect<Item>(_ fetch: (Int32, String) async throws -> ([Item], String)) async throws -> ([Item], String) {
    let size = pageSize ?? (all ? 1000 : 0)
    var (items, next) = try await fetch(size, pageToken ?? "")
    while all && !next.isEmpty {
      let (more, token) = try await fetch(size, next)
      items += more
      next = token
    }
    return (items, next)
  }
}
