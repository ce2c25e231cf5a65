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
  /// What the message says: key/value pairs the renderer uses (tenant_name,
  /// inviter_name, inviter_mail, custom_message, redeem_url, expires_at,
  /// language, passcode, ...). Empty once sent.
  public var payload: [String: String]

  /// Creates a queued message.
  public init(tenantID: String, invitationID: String, kind: Kind, recipient: String, cc: String, createdAt: Int64, payload: [String: String]) {
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

  /// Encodes the payload as lines of `key=value` with escaped newlines.
  public static func encode(_ payload: [String: String]) -> String {
    payload.sorted { $0.key < $1.key }.map { key, value in
      key + "=" + value.replacingEscapes()
    }.joined(separator: "\n")
  }

  /// Decodes what `encode` wrote.
  public static func decode(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      guard let equals = line.firstIndex(of: "=") else { continue }
      result[String(line[..<equals])] = String(line[line.index(after: equals)...]).restoringEscapes()
    }
    return result
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
