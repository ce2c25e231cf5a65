import ArgumentParser
import GuestAccessClient

/// `guestctl invite EMAIL …` and `guestctl invite bulk --csv FILE`.
struct InviteCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "invite",
    abstract: "Invite a guest by email (`invite EMAIL`), or many (`invite bulk --csv FILE`).",
    subcommands: [Send.self, Bulk.self],
    defaultSubcommand: Send.self)

  /// `invite [send] EMAIL …`: one invitation.
  struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Invite one address (the default: `invite EMAIL` is `invite send EMAIL`).",
      discussion: "Prints the invitation with its redeem URL, the link the guest redeems (shown only now).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The email address to invite.") var email: String
    @Option(help: "Display name for the guest (default: the email's local part).") var name: String = ""
    @OptionGroup var options: InvitationOptions

    mutating func run() async throws {
      var request = try options.request(tenantID: global.tenantID)
      request.invitedEmail = email
      request.invitedDisplayName = name
      let response = try await global.perform { [request] in try await $0.invitations.createInvitation(request) }
      try global.output(response) { DetailView.render(response) }
      if global.isText && response.alreadyPending {
        Console.error(
          "note: \(email) already has a pending invitation; `guestctl invitation resend \(response.invitation.id)` makes a new redeem URL")
      }
    }
  }

  /// `invite bulk --csv FILE`: one invitation per CSV row.
  struct Bulk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Invite every row of a CSV file (header: email,name,groups,apps; groups and apps separated by ';').",
      discussion: """
        Rows are sent in batches of up to 500 and succeed or fail on their own; the results list every row. \
        With --idempotency-key K, row N uses the key K-N, so running the same file again is safe. \
        Exits 1 when any row failed.
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The CSV file ('-' for standard input).") var csv: String
    @OptionGroup var options: InvitationOptions

    mutating func run() async throws {
      let rows = try BulkInvitationFile.read(path: csv)
      let template = try options.request(tenantID: "")
      var items: [CreateInvitationRequest] = []
      for (index, row) in rows.enumerated() {
        var item = template
        item.invitedEmail = row.email
        item.invitedDisplayName = row.name
        item.grants = InvitationGrants(
          groupIDs: template.grants.groupIDs + row.groups, applicationIDs: template.grants.applicationIDs + row.apps)
        if !template.idempotencyKey.isEmpty { item.idempotencyKey = "\(template.idempotencyKey)-\(index + 1)" }
        items.append(item)
      }
      let tenantID = global.tenantID
      let batches = stride(from: 0, to: items.count, by: 500).map { Array(items[$0..<min($0 + 500, items.count)]) }
      let response = try await global.perform { client in
        var combined = CreateInvitationsResponse()
        for (number, batch) in batches.enumerated() {
          let part = try await client.invitations.createInvitations(CreateInvitationsRequest(tenantID: tenantID, invitations: batch))
          combined.results += part.results.map { var result = $0; result.index += Int32(number * 500); return result }
          combined.succeededCount += part.succeededCount
          combined.failedCount += part.failedCount
        }
        return combined
      }
      try global.output(response) {
        Table.batchResults(response.results, emails: rows.map(\.email)).render()
          + "\n\(response.succeededCount) invited, \(response.failedCount) failed"
      }
      if response.failedCount > 0 { throw failure("\(response.failedCount) of \(items.count) invitations failed") }
    }
  }
}
