/// A plain-text table: upper-case headers and left-aligned columns separated
/// by two spaces.
///
/// ```
/// ID          NAME      STATE
/// ten_4f2a…   Contoso   ACTIVE
/// ```
struct Table {
  /// Column headers.
  var headers: [String]
  /// Rows of cells, as many as there are headers.
  var rows: [[String]] = []

  /// A table with these headers and no rows yet.
  init(_ headers: String...) {
    self.headers = headers
  }

  /// Adds a row.
  mutating func add(_ cells: String...) {
    rows.append(cells)
  }

  /// Adds a row.
  mutating func add(row cells: [String]) {
    rows.append(cells)
  }

  /// The aligned text; `empty` instead when there are no rows.
  func render(empty: String = "(none)") -> String {
    guard !rows.isEmpty else { return empty }
    let all = [headers.map { $0.uppercased() }] + rows.map { row in
      row.map { $0.isEmpty ? "-" : $0.replacingNewlines() }
    }
    var widths = [Int](repeating: 0, count: headers.count)
    for row in all {
      for (column, cell) in row.enumerated() where column < widths.count {
        widths[column] = max(widths[column], cell.count)
      }
    }
    return all.map { row in
      var line = ""
      for (column, cell) in row.enumerated() where column < widths.count {
        let last = column == widths.count - 1
        line += last ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
      }
      return line
    }.joined(separator: "\n")
  }
}

extension String {
  /// The string on one line (newlines and tabs become spaces).
  func replacingNewlines() -> String {
    String(map { $0.isNewline || $0 == "\t" ? " " : $0 })
  }
}
