import ArgumentParser

/// `guestctl`: the admin and user command line of GuestAccess.
@main
struct GuestCtl: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guestctl",
    abstract: "Administer GuestAccess: tenants, settings, directory, invitations, guests, reviews, audit.",
    discussion: """
      Every command takes --server HOST:PORT ($GUESTACCESS_SERVER, default 127.0.0.1:7700), \
      --key SECRET ($GUESTACCESS_KEY) or --key-file PATH, --tenant ID (the tenant to act in), \
      --json (one JSON value) and --field PATH (one field of the result, for shell variables).
      Failures print "error: CODE: message" on standard error and exit with 2 + the gRPC status code \
      (e.g. 7 for NOT_FOUND, 9 for PERMISSION_DENIED); bad usage exits 64, other errors 1.
      """,
    version: "0.1.0",
    subcommands: [
      TenantCommand.self, SettingsCommand.self, IdpCommand.self, CrossTenantCommand.self, UserCommand.self, GroupCommand.self,
      AppCommand.self, CredentialCommand.self, InviteCommand.self, InvitationCommand.self, RedeemCommand.self, SignInCommand.self,
      GuestCommand.self, MyTenantsCommand.self, CheckAccessCommand.self, ReviewCommand.self, AuditCommand.self,
      HealthCommand.self,
    ])
}
