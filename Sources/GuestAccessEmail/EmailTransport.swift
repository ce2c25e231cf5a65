/// Why a delivery did not happen, and whether to try again.
public enum EmailDeliveryError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Worth retrying later: a 4xx reply, a connection failure, a timeout, a full disk.
  case transient(String)
  /// Retrying will not help: a 5xx reply, an invalid message.
  case permanent(String)

  /// The reason, for the outbox's `last_error`.
  public var reason: String {
    switch self {
    case .transient(let reason), .permanent(let reason): reason
    }
  }

  public var description: String {
    switch self {
    case .transient(let reason): "temporary failure: \(reason)"
    case .permanent(let reason): "permanent failure: \(reason)"
    }
  }
}

/// What a transport reports for a message it accepted.
public struct DeliveryReceipt: Sendable, Hashable {
  /// The transport's confirmation (e.g. the SMTP reply to the end of DATA, or the spool file).
  public var confirmation: String
  /// Recipients refused while others were accepted (e.g. a cc address the relay rejected), with the reason.
  public var refusedRecipients: [String: String]

  /// Creates a receipt.
  public init(confirmation: String, refusedRecipients: [String: String] = [:]) {
    self.confirmation = confirmation
    self.refusedRecipients = refusedRecipients
  }
}

/// Hands rendered messages to the world. Implementations block (sockets,
/// fsync): call `deliver` on a dedicated thread, never on the Swift
/// concurrency pool — `OutboxWorker` runs it on a `BlockingThread` (`GuestAccessLocks`).
public protocol EmailTransport: Sendable {
  /// A short name for logs (`spool`, `smtp`).
  var name: String { get }
  /// Delivers one message, or says why not.
  func deliver(_ message: EmailMessage) throws(EmailDeliveryError) -> DeliveryReceipt
}
