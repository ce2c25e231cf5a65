import ArgumentParser
import GuestLoadKit

/// `guest-load compare A.json B.json`.
struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare", abstract: "Print two runs (reports written with -O json) side by side, with the ratio B/A.")

  @Argument(help: "The first run's JSON report (A).")
  var a: String

  @Argument(help: "The second run's JSON report (B).")
  var b: String

  func run() throws {
    try Console.exitOnSetupError {
      let first = try CompareReport.load(a), second = try CompareReport.load(b)
      print(CompareReport.render(first, second, nameA: first.name.isEmpty ? "A" : first.name, nameB: second.name.isEmpty ? "B" : second.name))
    }
  }
}

/// `guest-load list`.
struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List every method --call accepts, with its kind and request message.")

  func run() {
    for method in CallableMethod.all {
      let kind = method.descriptor.kind == .serverStreaming ? "server-streaming" : "unary"
      print("\(method.fullName)\t\(kind)\t\(method.requestName)")
    }
  }
}
