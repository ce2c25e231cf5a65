import Foundation
import GuestAccessTestSupport

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
  static func run(_ arguments: [String], input: [UInt8], extraIncludes: [URL] = [], extraFiles: [String] = []) async throws -> Output {
    let includes = extraIncludes.map { "-I\($0.path)" } + ["-IProtos"]
    let output: Subprocess.Output
    do {
      output = try await Subprocess.run(
        "/usr/bin/env", ["protoc"] + arguments + includes + (try RepositoryRoot.protoFiles()) + extraFiles,
        directory: RepositoryRoot.url.path, input: input)
    } catch {
      throw Failure(description: "cannot start protoc (apt-get install protobuf-compiler): \(error)")
    }
    return Output(status: output.status, stdout: output.stdout, stderr: output.stderrText)
  }

  /// `protoc --encode=<type>`: text format in, wire format out.
  static func encode(_ type: String, text: String, extraIncludes: [URL] = [], extraFiles: [String] = []) async throws -> [UInt8] {
    let output = try await run(["--encode=\(type)"], input: Array(text.utf8), extraIncludes: extraIncludes, extraFiles: extraFiles)
    guard output.status == 0 else {
      throw Failure(description: "protoc --encode=\(type) exited \(output.status): \(output.stderr)")
    }
    return output.stdout
  }

  /// `protoc --decode=<type>`: wire format in, text format out.
  static func decode(_ type: String, bytes: [UInt8], extraIncludes: [URL] = [], extraFiles: [String] = []) async throws -> String {
    let output = try await run(["--decode=\(type)"], input: bytes, extraIncludes: extraIncludes, extraFiles: extraFiles)
    guard output.status == 0 else {
      throw Failure(description: "protoc --decode=\(type) exited \(output.status): \(output.stderr)")
    }
    return String(decoding: output.stdout, as: UTF8.self)
  }
}
