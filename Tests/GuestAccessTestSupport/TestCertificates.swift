import Foundation

/// Certificates a test makes for itself with `Scripts/dev-certs` (the
/// openssl CLI) in a fresh temporary directory: a CA of its own, a server
/// certificate for localhost, 127.0.0.1 and ::1, and client certificates on demand.
public struct TestCertificates: Sendable {
  /// The directory holding the files.
  public let directory: String

  /// The CA certificate (PEM).
  public var caFile: String { directory + "/ca.pem" }
  /// The server certificate (PEM).
  public var serverCertificate: String { directory + "/server.pem" }
  /// The server certificate's key (PEM).
  public var serverKey: String { directory + "/server.key" }

  /// The repository root (for `Scripts/dev-certs`).
  public static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

  /// A CA and a server certificate, valid for `days` (negative: expired).
  public static func make(days: Int = 30) async throws -> TestCertificates {
    let directory = NSTemporaryDirectory() + "guestaccess-certs-" + UUID().uuidString
    try await run(directory, days: days)
    return TestCertificates(directory: directory)
  }

  /// A client certificate signed by this CA (subject `CN=name`, with `uri` as URI SAN): its certificate and key files.
  public func makeClient(_ name: String, uri: String? = nil) async throws -> (certificate: String, key: String) {
    try await Self.run(directory, ["client", name] + (uri.map { [$0] } ?? []))
    return (directory + "/\(name).pem", directory + "/\(name).key")
  }

  /// Another server certificate from this CA, valid for `days` (negative: expired), in a subdirectory.
  public func makeServer(_ name: String, days: Int) async throws -> (certificate: String, key: String) {
    let sub = directory + "/" + name
    try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
    for file in ["ca.pem", "ca.key"] { try FileManager.default.copyItem(atPath: directory + "/" + file, toPath: sub + "/" + file) }
    try await Self.run(sub, days: days)
    return (sub + "/server.pem", sub + "/server.key")
  }

  /// Deletes the files.
  public func remove() {
    try? FileManager.default.removeItem(atPath: directory)
  }

  private static func run(_ directory: String, _ arguments: [String] = [], days: Int = 30) async throws {
    var environment = ProcessInfo.processInfo.environment
    environment["DEV_CERTS_DAYS"] = "\(days)"
    let output = try await Subprocess.run(
      "/bin/bash", [repositoryRoot + "/Scripts/dev-certs", directory] + arguments, environment: environment, timeout: .seconds(60))
    guard output.status == 0 else {
      throw Failure(description: "Scripts/dev-certs failed: \(output.stderrText)")
    }
  }

  /// `Scripts/dev-certs` failed.
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }
}
