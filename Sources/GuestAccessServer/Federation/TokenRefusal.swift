import GuestAccessCore

/// Why a provider's token was refused: each one a reason in the ErrorInfo of
/// an UNAUTHENTICATED answer (docs/FEDERATION.md lists them).
public enum TokenRefusal: Error, Sendable, CaseIterable {
  /// Not three base64url parts of JSON, or a required claim missing or mistyped.
  case malformed
  /// `alg` is not in the provider's allowed list (`none` and HMAC never are).
  case algorithmNotAllowed
  /// No key of the issuer's key set has the token's `kid` (after one refetch).
  case unknownKey
  /// The signature does not verify with the issuer's key.
  case badSignature
  /// `iss` is not exactly the configured issuer.
  case wrongIssuer
  /// `aud` does not contain the client id (or `azp` is not it when there are several audiences).
  case wrongAudience
  /// `exp` has passed (beyond the skew).
  case expired
  /// `nbf` or `iat` is in the future (beyond the skew).
  case notYetValid
  /// `nonce` is not the one this sign-in sent.
  case wrongNonce
  /// The address claim is missing or `email_verified` is not true.
  case emailNotVerified
  /// The issuer's keys could not be fetched and none are known.
  case keysUnavailable

  /// The message shown to the caller.
  public var message: String {
    switch self {
    case .malformed: "the token is not a well-formed signed JWT"
    case .algorithmNotAllowed: "the token's signing algorithm is not allowed for this provider"
    case .unknownKey: "the token names a signing key the provider does not publish"
    case .badSignature: "the token's signature does not verify"
    case .wrongIssuer: "the token was issued by another issuer"
    case .wrongAudience: "the token was issued for another client"
    case .expired: "the token expired"
    case .notYetValid: "the token is not valid yet"
    case .wrongNonce: "the token does not belong to this sign-in (nonce)"
    case .emailNotVerified: "the provider does not vouch for the address (email_verified is not true)"
    case .keysUnavailable: "the provider's signing keys cannot be fetched"
    }
  }

  /// The reason of the answer (one of `ErrorReason.allCases`).
  public var reason: ErrorReason {
    switch self {
    case .malformed: .tokenMalformed
    case .algorithmNotAllowed: .tokenAlgorithmNotAllowed
    case .unknownKey: .tokenKeyUnknown
    case .badSignature: .tokenSignatureInvalid
    case .wrongIssuer: .tokenIssuerMismatch
    case .wrongAudience: .tokenAudienceMismatch
    case .expired: .tokenExpired
    case .notYetValid: .tokenNotYetValid
    case .wrongNonce: .tokenNonceMismatch
    case .emailNotVerified: .emailNotVerified
    case .keysUnavailable: .providerKeysUnavailable
    }
  }

  /// As an RPC error: UNAUTHENTICATED (UNAVAILABLE for unfetchable keys) with the reason.
  public var rpcError: RPCError {
    RPCError(code: self == .keysUnavailable ? .unavailable : .unauthenticated, message: message, reason: reason)
  }
}
