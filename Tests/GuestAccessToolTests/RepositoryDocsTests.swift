import Foundation
import Testing

/// The repository's docs stand alone: what a user or contributor needs is in
/// `README.md`, `docs/` and the code, so nothing may point at a product
/// specification kept outside the repository.
@Suite("Repository docs")
struct RepositoryDocsTests {
  /// Folders and files read; generated and vendored trees are skipped.
  private static let roots = ["README.md", "BENCHMARKS.md", "docs", "Protos", "Sources", "Scripts", "Tests", "Fuzz", "Benchmarks"]
  private static let textExtensions: Set<String> = ["md", "swift", "proto", "py", "c", "h", "sh", ""]

  @Test func noCitationOfAnExternalSpecification() throws {
    let fm = FileManager.default
    var offenders: [String] = []
    // Built from parts so that this file does not match itself.
    let patterns = ["SPEC" + " §", "SPEC" + ".md", "the " + "SPEC"]
    for root in Self.roots {
      let url = Tools.repositoryRoot.appendingPathComponent(root)
      var files: [URL] = []
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
      if isDirectory.boolValue {
        let walker = fm.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey])
        while let next = walker?.nextObject() as? URL {
          if next.pathComponents.contains(where: { $0.hasPrefix(".build") || $0 == "artifacts" }) { continue }
          if Self.textExtensions.contains(next.pathExtension) { files.append(next) }
        }
      } else {
        files.append(url)
      }
      for file in files {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
        for pattern in patterns where text.contains(pattern) {
          offenders.append("\(file.path): \(pattern)")
        }
      }
    }
    #expect(offenders.isEmpty, "docs must stand alone: \(offenders)")
  }
}
