/// Why a client transport could not carry a call, as a type.
///
/// Transports report their failures with these cases; `RPCError(_:)` maps each
/// to the status a caller sees and keeps the case as the error's `cause`. One
/// rule decides what may be retried: a case that proves the call never reached
/// the server (`provesNotProcessed`) becomes UNAVAILABLE with reason
/// `CALL_NOT_PROCESSED`, which `RPCChannel` retries even for calls that are
/// not idempotent; a connection lost after the call went out is plain
/// UNAVAILABLE, since the server may have run it.
public enum TransportError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The host name did not resolve to an address.
  case unresolvableHost(String)
  /// The connection could not be made: `reason` is the socket error or the TLS handshake's failure.
  case connectFailed(target: String, reason: String)
  /// The connection (TLS handshake included) was not made within the connect timeout.
  case connectTimedOut(target: String, timeout: Duration)
  /// The client's TLS settings could not be applied to a new connection.
  case tlsSetupFailed(String)
  /// The connection had stopped taking calls (GOAWAY, loss, close) before this one was sent.
  case connectionEnded(target: String, reason: String?)
  /// The server's GOAWAY covered calls up to a lower id than this one's: it never ran.
  case refusedByGoAway(message: String)
  /// The connection closed before the server spoke (no preface): no call on it can have run.
  case closedBeforePreface(reason: String)
  /// The connection was lost while the call was in flight: the server may have run it.
  case connectionLost(reason: String)
  /// The server broke the framing protocol; the connection was closed.
  case protocolViolation(String)
  /// The client transport was closed by its owner.
  case clientClosed

  /// Whether the failure proves the server never processed the call.
  public var provesNotProcessed: Bool {
    switch self {
    case .unresolvableHost, .connectFailed, .connectTimedOut, .tlsSetupFailed, .connectionEnded, .refusedByGoAway,
      .closedBeforePreface:
      return true
    case .connectionLost, .protocolViolation, .clientClosed:
      return false
    }
  }

  public var description: String {
    switch self {
    case .unresolvableHost(let host): return "cannot resolve host \(host)"
    case .connectFailed(let target, let reason): return "cannot connect to \(target): \(reason)"
    case .connectTimedOut(let target, let timeout): return "connect to \(target) timed out after \(timeout)"
    case .tlsSetupFailed(let reason): return reason
    case .connectionEnded(let target, let reason): return reason ?? "connection to \(target) is closed"
    case .refusedByGoAway(let message): return "server going away: \(message)"
    case .closedBeforePreface(let reason): return reason
    case .connectionLost(let reason): return reason
    case .protocolViolation(let detail): return detail
    case .clientClosed: return "client closed"
    }
  }
}

extension RPCError {
  /// The error a caller sees for a transport failure: UNAVAILABLE with reason
  /// `CALL_NOT_PROCESSED` when the failure proves the call never ran, INTERNAL
  /// for a protocol violation, UNAVAILABLE otherwise; `cause` is `error`.
  public init(_ error: TransportError) {
    if error.provesNotProcessed {
      self = .callNotProcessed(error.description, cause: error)
    } else if case .protocolViolation = error {
      self.init(code: .internalError, message: error.description, cause: error)
    } else {
      self.init(code: .unavailable, message: error.description, cause: error)
    }
  }

  /// The transport failure behind this error, if it is one.
  public var transportError: TransportError? { cause as? TransportError }
}
