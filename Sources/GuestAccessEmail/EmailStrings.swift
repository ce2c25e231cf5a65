/// The wording of the emails in one language. Every text is plain; the
/// renderer escapes it for HTML. Add a language with one more
/// `EmailStrings+<Language>.swift` and an entry in `EmailStrings.all`.
public struct EmailStrings: Sendable {
  /// The language tag (`en`, `de`, ...), used in `Content-Language`.
  public var language: String
  /// The expiry as people read it, e.g. `March 4, 2027, 09:30 UTC`.
  public var date: @Sendable (CivilTime) -> String
  /// The display name of the sender: `(configured name, tenant) -> text`.
  public var senderName: @Sendable (String, String) -> String
  /// The salutation: `(invitee name or "") -> text`.
  public var greeting: @Sendable (String) -> String

  /// Subject of an invitation: `(inviter, tenant)`.
  public var invitationSubject: @Sendable (String, String) -> String
  /// First paragraph of an invitation: `(inviter, inviter mail or "", tenant)`.
  public var invitationIntro: @Sendable (String, String, String) -> String
  /// Heading of the custom message: `(inviter)`.
  public var customMessageHeading: @Sendable (String) -> String
  /// The label of the accept button (HTML).
  public var acceptButton: String
  /// The line above the redeem URL.
  public var acceptLinkIntro: String
  /// The expiry line: `(formatted date)`.
  public var invitationExpiry: @Sendable (String) -> String
  /// What to do with an unexpected invitation.
  public var invitationIgnore: String

  /// Subject of a passcode mail: `(tenant)`.
  public var passcodeSubject: @Sendable (String) -> String
  /// The line above the passcode: `(tenant)`.
  public var passcodeIntro: @Sendable (String) -> String
  /// The expiry line: `(formatted date)`.
  public var passcodeExpiry: @Sendable (String) -> String
  /// What to do with an unexpected passcode.
  public var passcodeIgnore: String
  /// The line above a sign-in passcode (a guest signing in again): `(tenant)`.
  public var signInPasscodeIntro: @Sendable (String) -> String
  /// The expiry line of a sign-in passcode: `(formatted date)`.
  public var signInPasscodeExpiry: @Sendable (String) -> String

  /// The closing line: `(tenant)`.
  public var footer: @Sendable (String) -> String

  /// Every translation.
  public static let all: [EmailStrings] = [.english, .german, .french]

  /// The translation for a language tag (`de-CH` → German), English when there is none.
  public static func forLanguage(_ tag: String) -> EmailStrings {
    let lower = tag.lowercased().replacingUnderscores()
    if let exact = all.first(where: { $0.language == lower }) { return exact }
    let primary = lower.split(separator: "-").first.map(String.init) ?? ""
    return all.first { $0.language == primary } ?? .english
  }
}

extension String {
  fileprivate func replacingUnderscores() -> String {
    String(map { $0 == "_" ? "-" : $0 })
  }
}
