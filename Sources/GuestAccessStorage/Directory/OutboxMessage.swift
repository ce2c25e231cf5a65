/// An email waiting in (or delivered from) the outbox. Written in the same
/// transaction as the invitation or passcode it carries; the delivery worker
/// renders and sends it. Once sent, its payload (which holds the redeem link
/// or the passcode) is erased.
public struct OutboxMessage: Sendable, Hashable {
  /// Delivery state.
  public enum Status: Int64, Sendable {
    /// Waiting to be sent (or retried).
    case queued = 1
    /// Accepted by the transport.
    case sent = 2
    /// Given up after the last attempt or a permanent refusal.
    case failed = 3
  }

  /// What the message is.
  public enum Kind: String, Sendable {
    /// An invitation email.
    case invitation
    /// A one-time passcode email (redemption).
    case passcode
    /// A one-time passcode email for a later sign-in of a passcode guest;
    /// `invitationID` holds the guest's user id.
    case signInPasscode = "sign_in_passcode"
  }

  /// Outbox sequence number.
  public var id: Int64
  /// The tenant the message belongs to.
  public var tenantID: String
  /// The invitation it is about (for `signInPasscode`, the guest's user id).
  public var invitationID: String
  /// Invitation or passcode.
  public var kind: Kind
  /// The recipient address.
  public var recipient: String
  /// One cc address, or "".
  public var cc: String
  /// Delivery state.
  public var status: Status
  /// Attempts so far.
  public var attempts: Int
  /// When the next attempt is due (ms).
  public var nextAttemptAt: Int64
  /// The last failure, or "".
  public var lastError: String
  /// When it was queued (ms).
  public var createdAt: Int64
  /// When it was sent (ms), or 0.
  public var sentAt: Int64
  /// What the message says (the renderer's input). Empty once sent.
  public var payload: OutboxPayload

  /// Creates a queued message.
  public init(tenantID: String, invitationID: String, kind: Kind, recipient: String, cc: String, createdAt: Int64, payload: OutboxPayload) {
    id = 0
    self.tenantID = tenantID
    self.invitationID = invitationID
    self.kind = kind
    self.recipient = recipient
    self.cc = cc
    status = .queued
    attempts = 0
    nextAttemptAt = createdAt
    lastError = ""
    self.createdAt = createdAt
    sentAt = 0
    self.payload = payload
  }
}

/// What an outbox message says: the fields its renderer fills in. Stored as
/// lines of `key=value` (newlines escaped), so rows written by earlier
/// versions read the same.
public struct OutboxPayload: Sendable, Hashable {
  /// The message's language tag ("" = English).
  public var language = ""
  /// The tenant the message speaks for.
  public var tenantName = ""
  /// The recipient's display name.
  public var invitedName = ""
  /// Invitations: the inviter's name ("" = the tenant's) and address.
  public var inviterName = ""
  public var inviterMail = ""
  /// Invitations: the inviter's own words.
  public var customMessage = ""
  /// Invitations: the link that redeems.
  public var redeemURL = ""
  /// Passcodes: the one-time passcode.
  public var passcode = ""
  /// When the invitation or passcode expires (ms); nil: not said.
  public var expiresAt: Int64?

  /// A payload with the given fields.
  public init(
    language: String = "", tenantName: String = "", invitedName: String = "", inviterName: String = "", inviterMail: String = "",
    customMessage: String = "", redeemURL: String = "", passcode: String = "", expiresAt: Int64? = nil
  ) {
    self.language = language
    self.tenantName = tenantName
    self.invitedName = invitedName
    self.inviterName = inviterName
    self.inviterMail = inviterMail
    self.customMessage = customMessage
    self.redeemURL = redeemURL
    self.passcode = passcode
    self.expiresAt = expiresAt
  }

  /// Nothing: what a sent or failed message keeps.
  public static let erased = OutboxPayload()

  /// The stored key of each text field.
  private static let fields: [(key: String, field: WritableKeyPath<OutboxPayload, String> & Sendable)] = [
    ("language", \.language), ("tenant_name", \.tenantName), ("invited_name", \.invitedName), ("inviter_name", \.inviterName),
    ("inviter_mail", \.inviterMail), ("custom_message", \.customMessage), ("redeem_url", \.redeemURL), ("passcode", \.passcode),
  ]

  /// The stored form: `key=value` lines, sorted by key, empty fields left out.
  public var encoded: String {
    var pairs = Self.fields.compactMap { key, field in self[keyPath: field].isEmpty ? nil : (key, self[keyPath: field]) }
    if let expiresAt { pairs.append(("expires_at", String(expiresAt))) }
    return pairs.sorted { $0.0 < $1.0 }.map { key, value in key + "=" + value.replacingEscapes() }.joined(separator: "\n")
  }

  /// Reads what `encoded` wrote; unknown keys are ignored.
  public init(encoded text: String) {
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      guard let equals = line.firstIndex(of: "=") else { continue }
      let key = line[..<equals]
      let value = String(line[line.index(after: equals)...]).restoringEscapes()
      if key == "expires_at" {
        expiresAt = Int64(value)
      } else if let field = Self.fields.first(where: { $0.key == key })?.field {
        self[keyPath: field] = value
      }
    }
  }
}

extension String {
  fileprivate func replacingEscapes() -> String {
    var out = ""
    for character in self {
      switch character {
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      default: out.append(character)
      }
    }
    return out
  }

  fileprivate func restoringEscapes() -> String {
    var out = ""
    var escaping = false
    for character in self {
      if escaping {
        out.append(character == "n" ? "\n" : character == "r" ? "\r" : character)
        escaping = false
      } else if character == "\\" {
        escaping = true
      } else {
        out.append(character)
      }
    }
    return out
  }
}
