import Foundation

/// Reading the spool transport's files (`ga.<kind>.<outbox id>.<created>@<domain>.eml`).
public enum SpooledMail {
  /// The `.eml` files in a spool directory, sorted.
  public static func files(in directory: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { $0.hasSuffix(".eml") && !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
  }

  /// The passcode in the spooled email of outbox message `outboxID` of
  /// `kind` (`passcode`, `sign_in_passcode`): the indented line of the plain-text part.
  public static func passcode(outboxID: Int64, kind: String = "passcode", spoolDir: String) -> String? {
    passcodes(kind: kind, outboxID: outboxID, spoolDir: spoolDir).first
  }

  /// The passcodes of every spooled email of `kind` (of outbox message `outboxID` when given).
  public static func passcodes(kind: String, outboxID: Int64? = nil, spoolDir: String) -> [String] {
    let prefix = "/ga.\(kind)." + (outboxID.map { "\($0)." } ?? "")
    return files(in: spoolDir).filter { $0.contains(prefix) }.compactMap { file in
      (try? String(contentsOfFile: file, encoding: .utf8)).flatMap(passcode(inText:))
    }
  }

  /// The first line indented by four spaces and holding only letters and digits.
  public static func passcode(inText text: String) -> String? {
    for line in text.split(whereSeparator: \.isNewline) {
      guard line.hasPrefix("    ") else { continue }
      let code = line.dropFirst(4)
      if !code.isEmpty && code.allSatisfy({ $0.isLetter || $0.isNumber }) { return String(code) }
    }
    return nil
  }
}
