import Foundation
import GuestAccessJSON

/// What `-d`, `-D`, `-m` and `--tags` hold before they become a request
/// message or metadata: JSON values, parsed with guest-load's errors.
extension JSONValue {
  /// Parses JSON text.
  /// - Throws: `LoadSetupError.invalidJSON` naming `what` (e.g. `-d`).
  public static func parse(_ text: String, what: String) throws -> JSONValue {
    do {
      return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    } catch {
      // JSONSerialization says where the text goes wrong; JSONDecoder only that it does.
      var detail = Self.describe(error)
      do {
        _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
      } catch let parse as NSError {
        if let position = parse.userInfo[NSDebugDescriptionErrorKey] as? String { detail = position }
      }
      throw LoadSetupError.invalidJSON(what: what, detail: detail)
    }
  }

  /// A short description of a JSON parse error.
  static func describe(_ error: any Error) -> String {
    if case DecodingError.dataCorrupted(let context) = error {
      if let underlying = context.underlyingError { return "\(underlying.localizedDescription)" }
      return context.debugDescription
    }
    return "\(error)"
  }

  /// The value as text for metadata: strings bare, numbers and booleans printed; nil for null, arrays and objects.
  public var metadataText: String? {
    self == .null ? nil : scalarText
  }
}
