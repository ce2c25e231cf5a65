import GuestAccessEmail

/// The wording of the redemption pages in one language. Texts the emails
/// also say (dates, the introduction, the custom message heading, the accept
/// button, the expiry lines) come from the same `EmailStrings`; these are the
/// pages' own. Every text is plain; the pages escape it.
struct WebStrings: Sendable {
  /// The emails' strings of the same language.
  var email: EmailStrings
  var pageTitle: String
  var invitationHeading: @Sendable (String) -> String
  var invitedAddress: String
  var grantsHeading: String
  var groupsLabel: String
  var applicationsLabel: String
  var nothingGranted: String
  var signInHeading: String
  var signInHome: String
  var signInPasscode: @Sendable (String) -> String
  var signInUnavailable: String
  var continueButton: String
  var consentHeading: String
  var consentIntro: @Sendable (String) -> String
  var consentSees: [String]
  var consentStays: String
  var homeKeyLabel: String
  var homeKeyHint: String
  var acceptButton: String
  var declineButton: String
  var passcodeHeading: String
  var passcodeSent: @Sendable (String) -> String
  var passcodeLabel: String
  var attemptsLeft: @Sendable (Int) -> String
  var verifyButton: String
  var resendButton: String
  var resendAfter: @Sendable (String) -> String
  var wrongPasscode: @Sendable (Int) -> String
  var passcodeSpent: String
  var passcodeExpired: String
  var doneHeading: String
  var doneIntro: @Sendable (String) -> String
  var doneContinue: String
  var declinedHeading: String
  var declinedBody: String
  var expiredHeading: String
  var expiredBody: String
  var revokedHeading: String
  var revokedBody: String
  var acceptedHeading: String
  var acceptedBody: String
  var unknownHeading: String
  var unknownBody: String
  var rateLimitedHeading: String
  var rateLimitedBody: String
  var formExpiredHeading: String
  var formExpiredBody: String
  var failedHeading: String
  // The sign-in pages.
  var signInPageTitle: String
  var signInFormHeading: String
  var signInFormIntro: String
  var tenantLabel: String
  var emailLabel: String
  var sendPasscodeButton: String
  var passcodeUsed: String
  var signedInHeading: String
  var signedInIntro: @Sendable (String) -> String
  var signedInAs: @Sendable (String, String) -> String
  var signedInUntil: @Sendable (String) -> String
  var signedInGrantsHeading: String
  var signOutButton: String
  var signedOutHeading: String
  var signedOutBody: String
  var signInAgain: String
  var signInNotAllowedHeading: String
  var signInNotAllowedBody: String
  var signInFormExpiredBody: String
  var nextSignIn: String
  // Sign-in through an identity provider.
  var signInPartner: @Sendable (String) -> String
  var signInHomeProvider: @Sendable (String) -> String
  var continueWith: @Sendable (String) -> String
  var providerRefusedHeading: String

  static let all: [WebStrings] = [.english, .french, .german]

  /// The strings for a language tag, English when there is none.
  static func forLanguage(_ tag: String) -> WebStrings {
    let email = EmailStrings.forLanguage(tag)
    return all.first { $0.email.language == email.language } ?? .english
  }

  /// Whether a tag names a language the pages speak (primary subtag).
  static func supports(_ tag: String) -> Bool {
    let primary = tag.lowercased().split(separator: "-").first.map(String.init) ?? ""
    return all.contains { $0.email.language == primary }
  }
}
