import GuestAccessBase64
import GuestAccessJSON
import GuestAccessProto

/// What a provider's token says once it passed every check.
public struct VerifiedToken: Sendable, Equatable {
  /// `iss`: the provider's issuer.
  public var issuer: String
  /// `sub`: the person at the provider.
  public var subject: String
  /// The address from the provider's email claim (lower-cased; "" when absent).
  public var email: String
  /// Whether the provider says the address is verified (`email_verified: true`).
  public var emailVerified: Bool
  /// `exp` in Unix ms: the token is worth nothing after it.
  public var expiresAt: Int64
  /// The `email_verified` claim as sent: nil when the token has none (a
  /// provider such as Entra ID that never sends it), false when it says false.
  public var emailVerifiedClaim: Bool?

  /// Creates a verified token's facts.
  public init(issuer: String, subject: String, email: String, emailVerified: Bool, expiresAt: Int64) {
    self.issuer = issuer
    self.subject = subject
    self.email = email
    self.emailVerified = emailVerified
    self.expiresAt = expiresAt
  }
}

/// The validation of a provider's JWT (ID token, or access token with a
/// configured audience): the JOSE header's `alg` from the provider's allowed
/// list, the key by `kid` from the issuer's key set, the signature, `iss`
/// exactly, `aud` (and `azp`), `exp`/`nbf`/`iat` within the skew, `nonce`.
/// Pure: the keys and the time are given.
public struct IDTokenValidator: Sendable {
  /// Clock skew tolerated on `exp`, `nbf` and `iat`.
  public static let skew: Duration = .seconds(60)
  /// Tokens longer than this are refused unread.
  public static let maximumTokenBytes = 16 * 1024

  /// The configured issuer (compared byte for byte with `iss`).
  public var issuer: String
  /// Audiences that may stand in `aud`: the client id, plus configured access token audiences.
  public var audiences: [String]
  /// The client id, which `azp` must be when `aud` has several values.
  public var clientID: String
  /// `alg` values accepted.
  public var allowedAlgorithms: [String]
  /// The claim holding the address.
  public var emailClaim: String

  /// A validator for `provider`'s tokens (`withAccessTokenAudiences`: also its
  /// configured access token audiences, for bearer tokens on the RPC).
  public init(provider: OpenIDConnectSettings, withAccessTokenAudiences: Bool) {
    issuer = provider.issuer
    clientID = provider.clientID
    audiences = [provider.clientID] + (withAccessTokenAudiences ? provider.accessTokenAudiences : [])
    allowedAlgorithms = provider.allowedAlgorithms.isEmpty ? ["RS256"] : provider.allowedAlgorithms
    emailClaim = provider.emailClaim.isEmpty ? "email" : provider.emailClaim
  }

  /// The parts of a compact JWS, before any check but the shape.
  public struct Parsed: Sendable {
    /// The header's `alg` and `kid` ("" when absent).
    public var algorithm: String
    public var keyID: String
    fileprivate var header: JSONValue
    fileprivate var claims: JSONValue
    fileprivate var signingInput: [UInt8]
    fileprivate var signature: [UInt8]

    /// `iss` as the token claims it, before any verification ("" when
    /// absent): only for finding the providers that may verify it.
    public var claimedIssuer: String { claims["iss"]?.string ?? "" }
  }

  /// Splits and decodes `token` (no verification).
  public static func parse(_ token: String) throws(TokenRefusal) -> Parsed {
    guard token.utf8.count <= maximumTokenBytes else { throw .malformed }
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, let headerBytes = Base64.url.decode(parts[0]),
      let claimBytes = Base64.url.decode(parts[1]), let signature = Base64.url.decode(parts[2]),
      let header = try? JSONValue.parse(headerBytes), let claims = try? JSONValue.parse(claimBytes),
      case .object = header, case .object = claims, let alg = header["alg"]?.string
    else { throw .malformed }
    return Parsed(
      algorithm: alg, keyID: header["kid"]?.string ?? "", header: header, claims: claims,
      signingInput: Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8), signature: signature)
  }

  /// Whether `alg` may be used at all: never `none`, never HMAC, only the allowed list.
  public func checkAlgorithm(_ alg: String) throws(TokenRefusal) {
    guard IdentityProviderRules.supportedAlgorithms.contains(alg), allowedAlgorithms.contains(alg) else { throw .algorithmNotAllowed }
  }

  /// The key of `keys` for `parsed`: the one with its `kid` (when the token
  /// names none, the set's only key for the algorithm); nil when none.
  public static func key(for parsed: Parsed, in keys: [JSONWebKey]) -> JSONWebKey? {
    let candidates = keys.filter { $0.accepts(parsed.algorithm) }
    if parsed.keyID.isEmpty { return candidates.count == 1 ? candidates[0] : nil }
    return candidates.first { $0.id == parsed.keyID }
  }

  /// Every check on `parsed` with `key`, at `nowMillis`; `nonce` is required
  /// to match when given (a browser sign-in), and not looked at otherwise.
  public func validate(_ parsed: Parsed, key: JSONWebKey, nowMillis: Int64, nonce: String?) throws(TokenRefusal) -> VerifiedToken {
    try checkAlgorithm(parsed.algorithm)
    guard key.accepts(parsed.algorithm), key.verifies(parsed.signature, over: parsed.signingInput, alg: parsed.algorithm) else {
      throw .badSignature
    }
    let claims = parsed.claims
    guard claims["iss"]?.string == issuer else { throw .wrongIssuer }
    guard let audience = claims["aud"]?.strings, audience.contains(where: audiences.contains) else { throw .wrongAudience }
    if audience.count > 1, let azp = claims["azp"]?.string, !audiences.contains(azp) { throw .wrongAudience }
    guard let subject = claims["sub"]?.string, !subject.isEmpty, subject.utf8.count <= 255 else { throw .malformed }
    guard let exp = claims["exp"]?.number else { throw .malformed }
    let now = Double(nowMillis) / 1000
    let skew = Double(Self.skew.components.seconds)
    guard exp + skew > now else { throw .expired }
    if let nbf = claims["nbf"]?.number, nbf - skew > now { throw .notYetValid }
    if let iat = claims["iat"]?.number, iat - skew > now { throw .notYetValid }
    if let nonce {
      guard let claimed = claims["nonce"]?.string, Secrets.constantTimeEqual(Array(claimed.utf8), Array(nonce.utf8)) else {
        throw .wrongNonce
      }
    }
    let claimed: Bool?
    switch claims["email_verified"] {
    case .bool(let flag)?: claimed = flag
    case .string(let text)?: claimed = text == "true"
    case nil: claimed = nil
    default: claimed = false
    }
    var token = VerifiedToken(
      issuer: issuer, subject: subject, email: (claims[emailClaim]?.string ?? "").lowercased(), emailVerified: claimed == true,
      expiresAt: Int64(exp * 1000))
    token.emailVerifiedClaim = claimed
    return token
  }
}
