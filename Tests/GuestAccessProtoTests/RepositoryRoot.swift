import Foundation

/// Paths inside the repository checkout, found from this file's location
/// (`Tests/GuestAccessProtoTests/RepositoryRoot.swift`).
enum RepositoryRoot {
  /// The repository root directory.
  static let url: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // GuestAccessProtoTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // root

  /// The `.proto` files of `guestaccess.v1`, relative to the root, sorted.
  static func protoFiles() throws -> [String] {
    let dir = url.appendingPathComponent("Protos/guestaccess/v1")
    return try FileManager.default.contentsOfDirectory(atPath: dir.path)
      .filter { $0.hasSuffix(".proto") }
      .sorted()
      .map { "Protos/guestaccess/v1/\($0)" }
  }
}
