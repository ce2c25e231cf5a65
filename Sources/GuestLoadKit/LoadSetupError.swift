/// What is wrong with a load run's options, found before any load is sent.
/// `guest-load` prints it and exits with 64 (usage).
public enum LoadSetupError: Error, Equatable, CustomStringConvertible {
  /// `--call` names no method of the schema.
  case unknownMethod(String, suggestions: [String])
  /// Text that should be JSON is not.
  case invalidJSON(what: String, detail: String)
  /// The request JSON does not fit the method's request message.
  case requestDoesNotFit(message: String, detail: String)
  /// `-m` is not an object of strings, or a key is not a valid metadata key.
  case invalidMetadata(String)
  /// A `{{…}}` template action guest-load does not know or cannot parse.
  case invalidTemplate(String)
  /// A file named by an option cannot be read.
  case unreadableFile(option: String, path: String)
  /// Options that contradict each other or are out of range.
  case invalidOption(String)

  public var description: String {
    switch self {
    case .unknownMethod(let name, let suggestions):
      let hint = suggestions.isEmpty ? "" : "; did you mean \(suggestions.joined(separator: " or "))?"
      return "unknown method \"\(name)\"\(hint) (`guest-load list` shows every method)"
    case .invalidJSON(let what, let detail): return "\(what) is not valid JSON: \(detail)"
    case .requestDoesNotFit(let message, let detail): return "the request does not fit \(message): \(detail)"
    case .invalidMetadata(let detail): return "invalid metadata: \(detail)"
    case .invalidTemplate(let detail): return "invalid template: \(detail)"
    case .unreadableFile(let option, let path): return "cannot read \(option) \(path)"
    case .invalidOption(let detail): return detail
    }
  }
}
