import GuestAccessClient
import ArgumentParser
import Foundation
import GuestAccessJSON
import GuestLoadKit

/// What each call sends (`--call` runs).
struct RequestOptions: ParsableArguments {
  @Option(help: ArgumentHelp(
    "Method to call: package.Service/Method (also /package.Service/Method, package.Service.Method, Service/Method). `guest-load list` lists them.",
    valueName: "method"))
  var call: String?

  @Option(name: [.customShort("d"), .customLong("data")], help: ArgumentHelp(
    "Request as JSON: one object, or an array sent round-robin; `@` reads standard input. Field names as in the schema or lowerCamel; templates such as {{.RequestNumber}} are rendered per call.",
    valueName: "json"))
  var data: String?

  @Option(name: [.customShort("D"), .customLong("data-file")], help: ArgumentHelp(
    "Request JSON from a file: one object, an array (round-robin) or one object per line (round-robin).", valueName: "path"))
  var dataFile: String?

  @Option(name: [.customShort("m"), .customLong("metadata")], help: ArgumentHelp(
    "Call metadata as a JSON object of strings, with templates, e.g. '{\"request-id\":\"{{.UUID}}\"}'.", valueName: "json"))
  var metadata: String?

  @Option(name: [.customShort("M"), .customLong("metadata-file")], help: ArgumentHelp("Call metadata JSON from a file.", valueName: "path"))
  var metadataFile: String?

  @Option(name: .customLong("stream-call-count"), help: "Server streaming: end each call after this many messages (counts as OK).")
  var streamCallCount: Int?

  @Option(name: .customLong("stream-call-duration"), help: ArgumentHelp(
    "Server streaming: end each call after this long, e.g. 500ms (counts as OK).", valueName: "duration"))
  var streamCallDuration: String?

  func validate() throws {
    if data != nil && dataFile != nil { throw ValidationError("give -d or -D, not both") }
    if metadata != nil && metadataFile != nil { throw ValidationError("give -m or -M, not both") }
    if let streamCallCount, streamCallCount <= 0 { throw ValidationError("--stream-call-count must be positive") }
    if let streamCallDuration, DurationText.parse(streamCallDuration) == nil {
      throw ValidationError("--stream-call-duration must look like 500ms or 2s")
    }
  }

  var streamLimits: StreamLimits {
    StreamLimits(count: streamCallCount, duration: streamCallDuration.flatMap(DurationText.parse))
  }

  /// The requests of a `--call` run (nil without `--call`), checked before any load.
  func source(tenant: String?, timeout: Duration?) throws -> RequestSource? {
    guard let call else { return nil }
    let method = try CallableMethod.named(call)
    return try RequestSource(method: method, data: try dataText(), metadata: try metadataText(), tenant: tenant, timeout: timeout)
  }

  private func dataText() throws -> String? {
    if data == "@" {
      return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
    if let data { return data }
    return try dataFile.map { try Self.read($0, option: "-D") }
  }

  private func metadataText() throws -> String? {
    if let metadata { return metadata }
    return try metadataFile.map { try Self.read($0, option: "-M") }
  }

  private static func read(_ path: String, option: String) throws -> String {
    guard let contents = FileManager.default.contents(atPath: path) else { throw LoadSetupError.unreadableFile(option: option, path: path) }
    return String(decoding: contents, as: UTF8.self)
  }

  var reportOptions: [String: String] {
    var options: [String: String] = [:]
    if let call { options["call"] = (try? CallableMethod.named(call).fullName) ?? call }
    if let data { options["data"] = data }
    if let dataFile { options["data-file"] = dataFile }
    if let text = metadata ?? metadataFile.flatMap({ try? Self.read($0, option: "-M") }) {
      options["metadata"] = Self.redacted(text)
    }
    if let streamCallCount { options["stream-call-count"] = "\(streamCallCount)" }
    if let streamCallDuration { options["stream-call-duration"] = streamCallDuration }
    return options
  }

  /// Metadata JSON with the value of `authorization` replaced, for the report.
  static func redacted(_ text: String) -> String {
    guard case .object(let object)? = try? JSONValue.parse(text, what: "-m") else { return "(not shown)" }
    let shown = object.keys.sorted().map { key -> String in
      let value = key.lowercased() == "authorization" ? "<redacted>" : (object[key]?.metadataText ?? "…")
      return "\(key): \(value)"
    }
    return shown.joined(separator: ", ")
  }
}
