import ArgumentParser
import GuestAccessClient

/// `guestctl invitation …`: existing invitations.
struct InvitationCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "invitation", abstract: "List, show, resend and revoke invitations.",
    subcommands: [List.self, Get.self, Resend.self, Revoke.self])

  /// `invitation list [--status S] [--email E] [--guest G] [--mine]`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List invitations, newest first.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only invitations with this status.") var status: InvitationStatus?
    @Option(help: "Only invitations of this address.") var email: String = ""
    @Option(help: "Only invitations for this guest user.") var guest: String = ""
    @Option(name: .customLong("invited-by"), help: "Only invitations by this user.") var invitedBy: String = ""

    mutating func run() async throws {
      let (tenantID, status, email, guest, invitedBy) = (global.tenantID, status ?? .unspecified, email, guest, invitedBy)
      let (invitations, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.invitations.listInvitations(ListInvitationsRequest(
            tenantID: tenantID, pageSize: size, pageToken: token, status: status, invitedEmail: email, guestUserID: guest, invitedBy: invitedBy))
          return (response.invitations, response.nextPageToken)
        }
      }
      try global.output(ListInvitationsResponse(invitations: invitations, nextPageToken: next), next: next) {
        Table.invitations(invitations).render(empty: "no invitations")
      }
    }
  }

  /// `invitation get ID`.
  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an invitation, with its email delivery.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Invitation id.") var id: String

    mutating func run() async throws {
      let request = GetInvitationRequest(tenantID: global.tenantID, invitationID: id)
      let invitation = try await global.perform { try await $0.invitations.getInvitation(request) }
      try global.output(invitation) { DetailView.render(invitation) }
    }
  }

  /// `invitation resend ID [--expires-days N]`.
  struct Resend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Send a pending or expired invitation again with a new redeem URL (the old one stops working).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Invitation id.") var id: String
    @Option(name: .customLong("expires-days"), help: "New lifetime in days (default: the tenant's).") var expiresDays: Int64?

    mutating func run() async throws {
      let request = ResendInvitationRequest(tenantID: global.tenantID, invitationID: id, expiresInSeconds: (expiresDays ?? 0) * 86_400)
      let invitation = try await global.perform { try await $0.invitations.resendInvitation(request) }
      try global.output(invitation) { DetailView.render(invitation) }
    }
  }

  /// `invitation revoke ID [--remove-guest]`.
  struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke an invitation: its redeem URL stops working at once.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Invitation id.") var id: String
    @Flag(name: .customLong("remove-guest"), help: "Also remove the pending guest.") var removeGuest = false

    mutating func run() async throws {
      let request = RevokeInvitationRequest(tenantID: global.tenantID, invitationID: id, removeGuest: removeGuest)
      let invitation = try await global.perform { try await $0.invitations.revokeInvitation(request) }
      try global.output(invitation) { DetailView.render(invitation) }
    }
  }
}
