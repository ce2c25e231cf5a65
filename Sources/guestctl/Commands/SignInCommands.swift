import ArgumentParser
import GuestAccessClient

/// `guestctl signin start` and `guestctl signin complete`.
struct SignInCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "signin",
    abstract: "Sign in again as an email passcode guest and get a short-lived key.",
    discussion: """
      For a guest that accepted its invitation by email passcode: `guestctl signin start --tenant ID --email ADDRESS` \
      emails a one-time passcode (if the address belongs to such a guest; the answer is the same for any address) and \
      prints the sign-in session; `guestctl signin complete --session ID --passcode CODE` prints a key that works for \
      one hour at most. Neither needs a key.
      """,
    subcommands: [Start.self, Complete.self])

  /// `signin start --tenant ID --email ADDRESS`.
  struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Email a sign-in passcode to a passcode guest of the tenant named by --tenant.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The guest's email address.") var email: String
    @Option(help: "The language of the passcode email, e.g. fr (default: the invitation's).") var language: String = ""

    func validate() throws {
      guard global.tenant?.isEmpty == false else { throw ValidationError("give --tenant: the tenant the guest belongs to") }
    }

    mutating func run() async throws {
      let request = BeginPasscodeSignInRequest(tenantID: global.tenantID, email: email, language: language)
      let response = try await global.perform(anonymous: true) { try await $0.invitations.beginPasscodeSignIn(request) }
      try global.output(response) { DetailView.render(response) }
      if global.isText {
        Console.error(
          "note: if \(response.passcodeSentTo) may sign in, a passcode was sent to it; finish with "
            + "`guestctl signin complete --session \(response.signInSessionID) --passcode CODE`")
      }
    }
  }

  /// `signin complete --session ID --passcode CODE`.
  struct Complete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Finish a passcode sign-in; prints a short-lived key (shown once).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The sign-in session printed by `signin start`.") var session: String
    @Option(help: "The passcode from the email.") var passcode: String

    mutating func run() async throws {
      let request = CompletePasscodeSignInRequest(signInSessionID: session, passcode: passcode)
      let response = try await global.perform(anonymous: true) { try await $0.invitations.completePasscodeSignIn(request) }
      try global.output(response) { DetailView.render(response) }
      if global.isText {
        Console.error("note: the secret is your key for \(response.tenantDisplayName) until \(Display.time(response.credential.expiresAt))")
      }
    }
  }
}
