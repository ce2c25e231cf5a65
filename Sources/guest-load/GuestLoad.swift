import ArgumentParser

/// `guest-load`: a ghz-style load tester for GuestAccess.
@main
struct GuestLoad: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guest-load",
    abstract: "Load-test a guestd: any method with any request, shaped load, reports (ghz's flags).",
    discussion: "Run `guest-load run --help` for every option (`run` is the default subcommand). See docs/LOAD.md.",
    version: "0.2.0",
    subcommands: [RunCommand.self, CompareCommand.self, ListCommand.self],
    defaultSubcommand: RunCommand.self)
}
