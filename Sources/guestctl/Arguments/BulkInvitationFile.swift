import Foundation

/// The rows of a bulk invitation CSV file.
enum BulkInvitationFile {
  /// One row: an address, a display name, groups and applications.
  struct Row {
    var email: String
    var name: String
    var groups: [String]
    var apps: [String]
  }

  /// Reads and checks the file: a header naming at least `email`, then rows.
  static func read(path: String) throws -> [Row] {
    let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
    guard let data else { throw failure("cannot read \(path)") }
    var rows = CSVReader.rows(String(decoding: data, as: UTF8.self))
    guard !rows.isEmpty else { throw failure("\(path) is empty") }
    let header = rows.removeFirst().map { $0.trimmingSpaces().lowercased() }
    func column(_ names: String...) -> Int? { header.firstIndex { names.contains($0) } }
    guard let email = column("email", "mail", "invited_email") else {
      throw failure("\(path): the header must name an email column (email,name,groups,apps)")
    }
    let name = column("name", "display_name", "displayname")
    let groups = column("groups", "group", "group_ids")
    let apps = column("apps", "app", "applications", "application_ids")
    guard !rows.isEmpty else { throw failure("\(path) has no rows") }
    return rows.map { cells in
      func cell(_ index: Int?) -> String { index.flatMap { cells.indices.contains($0) ? cells[$0].trimmingSpaces() : nil } ?? "" }
      func ids(_ index: Int?) -> [String] { cell(index).split(whereSeparator: { $0 == ";" || $0 == " " }).map(String.init) }
      return Row(email: cell(email), name: cell(name), groups: ids(groups), apps: ids(apps))
    }
  }
}
