/// A small RFC 4180 reader: comma-separated fields, optionally in double
/// quotes (with `""` for a quote inside), rows ending in LF or CRLF.
enum CSVReader {
  /// The rows of `text`, blank lines left out.
  static func rows(_ text: String) -> [[String]] {
    let characters = Array(text)
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var index = 0
    func endRow() {
      row.append(field)
      if row.contains(where: { !$0.trimmingSpaces().isEmpty }) { rows.append(row) }
      row = []
      field = ""
    }
    while index < characters.count {
      let character = characters[index]
      index += 1
      if quoted {
        if character != "\"" {
          field.append(character)
        } else if index < characters.count && characters[index] == "\"" {
          field.append("\"")
          index += 1
        } else {
          quoted = false
        }
        continue
      }
      switch character {
      case "\"" where field.trimmingSpaces().isEmpty:
        field = ""
        quoted = true
      case ",":
        row.append(field)
        field = ""
      case "\n", "\r\n", "\r":
        endRow()
      default:
        field.append(character)
      }
    }
    if !field.isEmpty || !row.isEmpty { endRow() }
    return rows
  }
}

extension String {
  /// The string without leading and trailing spaces and tabs.
  func trimmingSpaces() -> String {
    var slice = Substring(self)
    while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
    while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
    return String(slice)
  }
}
