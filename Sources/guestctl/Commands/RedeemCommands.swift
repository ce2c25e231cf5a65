import ArgumentParser
import GuestAccessClient

/// `guestctl redeem URL` and `guestctl redeem complete`.
struct RedeemCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "redeem",
    abstract: "Redeem an invitation: with your home tenant's key, or by email passcode without one.",
    discussion: """
      With a key (--key, --key-file or $GUESTACCESS_KEY) the invitation is bound to that account and accepted at once. \
      Without a key (or with --passcode) a one-time passcode is emailed to the invited address and the redemption \
      session is printed; finish with `guestctl redeem complete --session ID --passcode CODE`, which prints your new key.
      """,
    subcommands: [Start.self, Complete.self],
    defaultSubcommand: Start.self)

  /// `redeem [start] URL`: redeems, or starts the passcode path.
  struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Redeem a redeem URL or ticket (the default: `redeem URL` is `redeem start URL`).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The redeem URL, or its ticket.") var ticket: String
    @Flag(name: .customLong("passcode"), help: "Use the email passcode path even when a key is set.") var passcode = false

    mutating func run() async throws {
      let hasKey = try global.credential() != nil
      let anonymous = passcode || !hasKey
      let request = RedeemInvitationRequest(ticket: RedeemTicket.from(ticket))
      let response = try await global.perform(anonymous: anonymous) { try await $0.invitations.redeemInvitation(request) }
      try global.output(response) { DetailView.render(response) }
      if global.isText && response.result == .passcodeSent {
        Console.error(
          "note: a passcode was sent to \(response.passcodeSentTo); finish with "
            + "`guestctl redeem complete --session \(response.redemptionSessionID) --passcode CODE`")
      }
    }
  }

  /// `redeem complete --session ID --passcode CODE`.
  struct Complete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Finish an email passcode redemption; prints your new key (shown once).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The redemption session printed by `redeem`.") var session: String = ""
    @Option(help: "The redeem URL or ticket, instead of --session (uses its latest session).") var ticket: String = ""
    @Option(help: "The passcode from the email.") var passcode: String

    func validate() throws {
      guard session.isEmpty != ticket.isEmpty else { throw ValidationError("give --session or --ticket") }
    }

    mutating func run() async throws {
      let request = CompleteRedemptionRequest(redemptionSessionID: session, ticket: ticket.isEmpty ? "" : RedeemTicket.from(ticket), passcode: passcode)
      let response = try await global.perform(anonymous: true) { try await $0.invitations.completeRedemption(request) }
      try global.output(response) { DetailView.render(response) }
      if global.isText { Console.error("note: the secret is your key for \(response.tenantDisplayName); it is shown only once") }
    }
  }
}
