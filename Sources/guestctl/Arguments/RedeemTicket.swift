import Foundation

/// The ticket of a redeem URL (`…/redeem?ticket=tkt_…`), or the text itself
/// when it is a bare ticket. The ticket is extracted here so that only the
/// ticket travels, whatever host the URL names.
enum RedeemTicket {
  /// The `ticket` query parameter of `text`, or `text` trimmed.
  static func from(_ text: String) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if let components = URLComponents(string: trimmed), let ticket = components.queryItems?.first(where: { $0.name == "ticket" })?.value {
      return ticket
    }
    return trimmed
  }
}
