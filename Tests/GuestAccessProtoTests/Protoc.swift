import Foundation

/// Runs the reference implementation, `protoc`, with the repository's
/// `Protos/` on its import path.
enum Protoc {
  /// What one protoc run produced.
  struct Output {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String
  }

  /// Why protoc could not be used.
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Runs `protoc <arguments> -I<extra>... -IProtos <files>` with `input` on
  /// stdin. Input and output go through temporary files, so large outputs
  /// cannot deadlock on a pipe.
  static func run(_ arguments: [String], input: [UInt8], extraIncludes: [URL] = [], extraFiles: [String] = []) throws -> Output {
    let work = FileManager.default.temporaryDirectory
      .appendingPathComponent("ga-protoc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }
    let inURL = work.appendingPathComponent("in")
    let outURL = work.appendingPathComponent("out")
    let errURL = work.appendingPathComponent("err")
    try Data(input).write(to: inURL)
    try Data().write(to: outURL)
    try Data().write(to: errURL)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.currentDirectoryURL = RepositoryRoot.url
    let includes = extraIncludes.map { "-I\($0.path)" } + ["-IProtos"]
    process.arguments = ["protoc"] + arguments + includes + (try RepositoryRoot.protoFiles()) + extraFiles
    let stdin = try FileHandle(forReadingFrom: inURL)
    let stdout = try FileHandle(forWritingTo: outURL)
    let stderr = try FileHandle(forWritingTo: errURL)
    defer {
      try? stdin.close()
      try? stdout.close()
      try? stderr.close()
    }
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    do {
      try process.run()
    } catch {
      throw Failure(description: "cannot start protoc (apt-get install protobuf-compiler): \(error)")
    }
    process.waitUntilExit()
    return Output(
      status: process.terminationStatus,
      stdout: [UInt8](try Data(contentsOf: outURL)),
      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
  }

  /// `protoc --encode=<type>`: text format in, wire format out.
  static func encode(_ type: String, text: String, extraIncludes: [URL] = [], extraFiles: [String] = []) throws -> [UInt8] {
    let output = try run(["--encode=\(type)"], input: Array(text.utf8), extraIncludes: extraIncludes, extraFiles: extraFiles)
    guard output.status == 0 else {
      throw Failure(description: "protoc --encode=\(type) exited \(output.status): \(output.stderr)")
    }
    return output.stdout
  }

  /// `protoc --decode=<type>`: wire format in, text format out.
  static func decode(_ type: String, bytes: [UInt8], extraIncludes: [URL] = [], extraFiles: [String] = []) throws -> String {
    let output = try run(["--decode=\(type)"], input: bytes, extraIncludes: extraIncludes, extraFiles: extraFiles)
    guard output.status == 0 else {
      throw Failure(description: "protoc --decode=\(type) exited \(output.status): \(output.stderr)")
    }
    return String(decoding: output.stdout, as: UTF8.self)
  }
}
