/// Everything one email says and whom it goes to: the renderer's whole input.
/// The server builds one from an outbox row; the email module knows nothing
/// of how or where messages are queued.
public struct EmailRequest: Sendable, Hashable {
  /// What the message is, with the fields only that kind has.
  public enum Kind: Sendable, Hashable {
    /// An invitation to a tenant, about the invitation `EmailRequest.subjectID`.
    case invitation(Invitation)
    /// The one-time passcode of a redemption, about the invitation `EmailRequest.subjectID`.
    case passcode(Passcode)
    /// The one-time passcode of a later sign-in of a passcode guest, about
    /// the guest whose user id is `EmailRequest.subjectID`.
    case signInPasscode(Passcode)
  }

  /// What an invitation says besides the common fields.
  public struct Invitation: Sendable, Hashable {
    /// The inviter: named in the subject and text (an empty name: the
    /// tenant's), and the Reply-To when the address is plausible.
    public var inviter: EmailAddress
    /// The inviter's own words ("" = none).
    public var customMessage: String
    /// The link that redeems the invitation.
    public var redeemURL: String
    /// When the invitation expires (Unix ms); nil: not said.
    public var expiresAt: Int64?

    /// An invitation's fields.
    public init(inviter: EmailAddress, customMessage: String = "", redeemURL: String, expiresAt: Int64? = nil) {
      self.inviter = inviter
      self.customMessage = customMessage
      self.redeemURL = redeemURL
      self.expiresAt = expiresAt
    }
  }

  /// What a passcode message says besides the common fields.
  public struct Passcode: Sendable, Hashable {
    /// The one-time passcode.
    public var code: String
    /// When it expires (Unix ms); nil: not said.
    public var expiresAt: Int64?

    /// A passcode's fields.
    public init(code: String, expiresAt: Int64? = nil) {
      self.code = code
      self.expiresAt = expiresAt
    }
  }

  /// The message's number, unique per message (the outbox sequence number):
  /// with `queuedAt` it makes the Message-ID, so rendering again yields the same bytes.
  public var number: Int64
  /// When the message was queued (Unix ms): its Date.
  public var queuedAt: Int64
  /// The invitation the message is about, or for a sign-in passcode the
  /// guest's user id (the `X-GuestAccess-Invitation`/`X-GuestAccess-Guest` header).
  public var subjectID: String
  /// The recipient, with their display name ("" = none).
  public var recipient: EmailAddress
  /// One more recipient in Cc, or nil.
  public var cc: String?
  /// The language tag the recipient asked for ("" = English); see `EmailStrings.forLanguage`.
  public var language: String
  /// The tenant the message speaks for ("" = GuestAccess).
  public var tenantName: String
  /// What the message is.
  public var kind: Kind

  /// A request with every field.
  public init(
    number: Int64, queuedAt: Int64, subjectID: String, recipient: EmailAddress, cc: String? = nil, language: String = "",
    tenantName: String, kind: Kind
  ) {
    self.number = number
    self.queuedAt = queuedAt
    self.subjectID = subjectID
    self.recipient = recipient
    self.cc = cc
    self.language = language
    self.tenantName = tenantName
    self.kind = kind
  }

  /// The kind's name in the Message-ID (`ga.<name>.<number>.<queuedAt>@<domain>`).
  var kindName: String {
    switch kind {
    case .invitation: "invitation"
    case .passcode: "passcode"
    case .signInPasscode: "sign_in_passcode"
    }
  }
}
