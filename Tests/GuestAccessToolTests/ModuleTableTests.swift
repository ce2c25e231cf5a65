import Foundation
import Testing

/// The module table of README.md and the targets of Package.swift agree, and
/// every target declares the targets of the package it imports (an import of
/// an undeclared target builds only by accident of the build order).
@Suite("Module table")
struct ModuleTableTests {
  struct Target {
    var name: String
    var directory: String
    var dependencies: Set<String>
  }

  /// The targets of Package.swift, read from its text: each `.target(`,
  /// `.executableTarget(`, `.testTarget(` or `.systemLibrary(` with its name,
  /// its folder and the quoted names in its `dependencies: [...]`.
  static func targets() throws -> [Target] {
    let text = try String(contentsOf: Tools.repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
    var targets: [Target] = []
    let kinds = [".target(", ".executableTarget(", ".testTarget(", ".systemLibrary("]
    var index = text.startIndex
    while let next = kinds.compactMap({ text.range(of: $0, range: index..<text.endIndex) }).min(by: { $0.lowerBound < $1.lowerBound }) {
      // The call's arguments, up to its balanced closing parenthesis.
      var depth = 1
      var end = next.upperBound
      while depth > 0, end < text.endIndex {
        if text[end] == "(" { depth += 1 } else if text[end] == ")" { depth -= 1 }
        end = text.index(after: end)
      }
      let call = String(text[next.upperBound..<end])
      index = end
      guard let name = Self.firstQuoted(after: "name:", in: call) else { continue }
      let isTest = text[next].hasPrefix(".testTarget")
      let directory = Self.firstQuoted(after: "path:", in: call) ?? (isTest ? "Tests/\(name)" : "Sources/\(name)")
      var dependencies: Set<String> = []
      if let list = call.range(of: "dependencies: [") {
        var depth = 1
        var close = list.upperBound
        while depth > 0, close < call.endIndex {
          if call[close] == "[" { depth += 1 } else if call[close] == "]" { depth -= 1 }
          close = call.index(after: close)
        }
        dependencies = Set(Self.quoted(in: String(call[list.upperBound..<close])))
      }
      targets.append(Target(name: name, directory: directory, dependencies: dependencies))
    }
    return targets
  }

  static func quoted(in text: String) -> [String] {
    text.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
  }

  static func firstQuoted(after label: String, in text: String) -> String? {
    guard let range = text.range(of: label) else { return nil }
    return quoted(in: String(text[range.upperBound...])).first
  }

  @Test("every target of Package.swift has a row in README.md's target table, and every row a target")
  func readmeListsTheTargets() throws {
    let readme = try String(contentsOf: Tools.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    guard let start = readme.range(of: "Targets in `Package.swift`:") else {
      Issue.record("README.md has no target table")
      return
    }
    let rows = readme[start.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
    let listed = Set(rows.compactMap { row -> String? in
      let cell = row.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
      guard cell.hasPrefix("`"), cell.hasSuffix("`") else { return nil }
      return String(cell.dropFirst().dropLast())
    })
    // Test suites (`…Tests`) have no row; their support targets do.
    let declared = Set(try Self.targets().map(\.name).filter { !$0.hasSuffix("Tests") })
    #expect(declared.subtracting(listed).sorted().isEmpty, "targets missing from README.md's table: \(declared.subtracting(listed).sorted())")
    #expect(listed.subtracting(declared).sorted().isEmpty, "rows of README.md's table without a target: \(listed.subtracting(declared).sorted())")
  }

  @Test("every target declares each target of the package it imports")
  func importsAreDeclared() throws {
    let targets = try Self.targets()
    let names = Set(targets.map(\.name))
    let fm = FileManager.default
    var undeclared: [String] = []
    for target in targets {
      let folder = Tools.repositoryRoot.appendingPathComponent(target.directory)
      guard let walker = fm.enumerator(at: folder, includingPropertiesForKeys: nil) else { continue }
      var imported: Set<String> = []
      while let file = walker.nextObject() as? URL {
        guard file.pathExtension == "swift", let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
        for line in text.split(separator: "\n") {
          let words = line.split(separator: " ")
          guard let position = words.firstIndex(of: "import"), position + 1 < words.count,
            words[..<position].allSatisfy({ $0.hasPrefix("@") })
          else { continue }
          imported.insert(String(words[position + 1]))
        }
      }
      for module in imported.intersection(names).subtracting([target.name]).sorted() where !target.dependencies.contains(module) {
        undeclared.append("\(target.name) imports \(module)")
      }
    }
    #expect(undeclared.isEmpty, "imports of targets not declared in Package.swift: \(undeclared)")
  }
}
