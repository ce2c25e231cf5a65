import Crypto
import Foundation
import GuestAccessBase64
import GuestAccessCore
import GuestAccessProto
import GuestAccessServer
import Testing

/// A provider's tokens as an attacker would bend them, signed by the test's
/// own keys: each one refused with its own reason.
@Suite("Provider token validation")
struct TokenValidationTests {
  static let issuer = "https://login.proseware.com/v2.0"
  static let settings = OpenIDConnectSettings(
    issuer: issuer, clientID: "contoso-guests", allowedAlgorithms: ["RS256"], accessTokenAudiences: ["api://contoso"])
  let now: Int64 = 1_800_000_000_000
  var seconds: Int { Int(now / 1000) }

  func claims(_ changes: [String: Any] = [:]) -> [String: Any] {
    var claims: [String: Any] = [
      "iss": Self.issuer, "sub": "AAAA-giovanna", "aud": "contoso-guests", "exp": seconds + 600, "iat": seconds - 5, "nbf": seconds - 5,
      "nonce": "n-0S6_WzA2Mj", "email": "GCarvalho@proseware.com", "email_verified": true,
    ]
    for (key, value) in changes { claims[key] = value }
    return claims
  }

  /// Validates `token` as a browser sign-in with the nonce sent, through the key cache.
  func check(_ token: String, cache: ProviderKeyCache, nonce: String? = "n-0S6_WzA2Mj", rpc: Bool = false) async throws(TokenRefusal) -> VerifiedToken {
    let validator = IDTokenValidator(provider: Self.settings, withAccessTokenAudiences: rpc)
    let parsed = try IDTokenValidator.parse(token)
    try validator.checkAlgorithm(parsed.algorithm)
    let key = try await cache.key(issuer: Self.issuer, for: parsed)
    return try validator.validate(parsed, key: key, nowMillis: now, nonce: nonce)
  }

  func refusal(_ token: String, cache: ProviderKeyCache, nonce: String? = "n-0S6_WzA2Mj", rpc: Bool = false) async -> TokenRefusal? {
    do {
      _ = try await check(token, cache: cache, nonce: nonce, rpc: rpc)
      return nil
    } catch {
      return error
    }
  }

  @Test func aGoodTokenGivesIssuerSubjectAndAddress() async throws {
    let signer = try TokenSigner(kid: "k1")
    let cache = ProviderKeyCache(source: FixedKeySource(try TokenSigner.jwks([signer])))
    let verified = try await check(try signer.sign(claims()), cache: cache)
    var expected = VerifiedToken(
      issuer: Self.issuer, subject: "AAAA-giovanna", email: "gcarvalho@proseware.com", emailVerified: true, expiresAt: (now / 1000 + 600) * 1000)
    expected.emailVerifiedClaim = true
    #expect(verified == expected)
    // An access token for the configured API audience is good on the RPC only.
    let access = try signer.sign(claims(["aud": "api://contoso", "nonce": NSNull()]))
    #expect(await refusal(access, cache: cache, nonce: nil) == .wrongAudience)
    #expect(await refusal(access, cache: cache, nonce: nil, rpc: true) == nil)
    #expect(cache.fetches == 1, "the keys are fetched once and kept")
  }

  @Test func forgedAndMisaddressedTokensAreRefused() async throws {
    let signer = try TokenSigner(kid: "k1")
    let cache = ProviderKeyCache(source: FixedKeySource(try TokenSigner.jwks([signer])))
    // Signed by another key claiming the provider's kid.
    let forger = try TokenSigner(kid: "k1")
    #expect(await refusal(try forger.sign(claims()), cache: cache) == .badSignature)
    // A good signature over claims changed afterwards.
    let good = try signer.sign(claims()).split(separator: ".")
    let tampered = "\(good[0]).\(TokenSigner.part(claims(["sub": "someone-else"]))).\(good[2])"
    #expect(await refusal(tampered, cache: cache) == .badSignature)
    #expect(await refusal(try signer.sign(claims(["iss": "https://login.proseware.com/v2.0/"])), cache: cache) == .wrongIssuer)
    #expect(await refusal(try signer.sign(claims(["iss": "https://evil.example"])), cache: cache) == .wrongIssuer)
    #expect(await refusal(try signer.sign(claims(["aud": "another-client"])), cache: cache) == .wrongAudience)
    #expect(await refusal(try signer.sign(claims(["aud": ["another-client", "contoso-guests"], "azp": "another-client"])), cache: cache) == .wrongAudience)
    #expect(await refusal(try signer.sign(claims(["aud": ["another-client", "contoso-guests"], "azp": "contoso-guests"])), cache: cache) == nil)
    #expect(await refusal(try signer.sign(claims(["exp": seconds - 61])), cache: cache) == .expired)
    #expect(await refusal(try signer.sign(claims(["exp": seconds - 30])), cache: cache) == nil, "within the 60 s skew")
    #expect(await refusal(try signer.sign(claims(["nbf": seconds + 120])), cache: cache) == .notYetValid)
    #expect(await refusal(try signer.sign(claims(["iat": seconds + 120])), cache: cache) == .notYetValid)
    #expect(await refusal(try signer.sign(claims(["nonce": "another-sign-in"])), cache: cache) == .wrongNonce)
    #expect(await refusal(try signer.sign(claims(["nonce": NSNull()])), cache: cache) == .wrongNonce)
    #expect(await refusal(try signer.sign(claims(["sub": ""])), cache: cache) == .malformed)
    #expect(await refusal("not.a.jwt", cache: cache) == .malformed)
    #expect(await refusal(String(repeating: "a", count: 20_000), cache: cache) == .malformed)
    // email_verified false or absent: verified is false (redemption then refuses it).
    #expect(try await check(try signer.sign(claims(["email_verified": false])), cache: cache).emailVerified == false)
    #expect(try await check(try signer.sign(claims(["email_verified": NSNull()])), cache: cache).emailVerified == false)
  }

  @Test func unsignedAndHMACTokensAreRefused() async throws {
    let signer = try TokenSigner(kid: "k1")
    let cache = ProviderKeyCache(source: FixedKeySource(try TokenSigner.jwks([signer])))
    let body = TokenSigner.part(claims())
    // alg none, with and without a signature part.
    let none = TokenSigner.part(["alg": "none", "kid": "k1"]) + "." + body + "."
    #expect(await refusal(none, cache: cache) == .algorithmNotAllowed)
    // HS256 "signed" with the provider's public key as the HMAC secret: the classic key confusion.
    let publicKeyBytes = Array(signer.rsa.publicKey.pkcs1DERRepresentation)
    let header = TokenSigner.part(["alg": "HS256", "kid": "k1"])
    let mac = HMAC<SHA256>.authenticationCode(for: Array((header + "." + body).utf8), using: SymmetricKey(data: publicKeyBytes))
    let hmacToken = header + "." + body + "." + Base64.url.encode(Array(mac))
    #expect(await refusal(hmacToken, cache: cache) == .algorithmNotAllowed)
    // Even if a provider published a symmetric key, it is never a verification key.
    let oct = try TokenSigner.jwks([], extra: [["kty": "oct", "kid": "k1", "k": Base64.url.encode(publicKeyBytes)]])
    #expect(try JSONWebKey.keySet(fromJSON: oct).isEmpty)
    // RS384 is not in this provider's allowed list.
    #expect(await refusal(try signer.sign(claims(), header: ["alg": "RS384", "kid": "k1"]), cache: cache) == .algorithmNotAllowed)
  }

  @Test func unknownKidRefetchesOnceThenIsRefused() async throws {
    let signer = try TokenSigner(kid: "k1")
    let rotated = try TokenSigner(kid: "k2")
    let source = FixedKeySource(try TokenSigner.jwks([signer]))
    let cache = ProviderKeyCache(source: source, refetchInterval: .seconds(300))
    _ = try await check(try signer.sign(claims()), cache: cache)
    #expect(cache.fetches == 1)
    // A kid the provider does not publish: one refetch, then refused.
    let stranger = try TokenSigner(kid: "k9")
    #expect(await refusal(try stranger.sign(claims()), cache: cache) == .unknownKey)
    #expect(cache.fetches == 2)
    // More unknown kids within the interval cause no fetch at all.
    for _ in 0..<20 { #expect(await refusal(try stranger.sign(claims()), cache: cache) == .unknownKey) }
    #expect(cache.fetches == 2)
    // The provider rotates to k2 meanwhile: known only after the interval.
    source.document.withLock { $0 = try? TokenSigner.jwks([signer, rotated]) }
    #expect(await refusal(try rotated.sign(claims()), cache: cache) == .unknownKey)
    let eager = ProviderKeyCache(source: source, refetchInterval: .zero)
    _ = try await check(try rotated.sign(claims()), cache: eager)
  }

  @Test func lastGoodKeysAreKeptWhenAFetchFails() async throws {
    let signer = try TokenSigner(kid: "k1")
    let source = FixedKeySource(try TokenSigner.jwks([signer]))
    let cache = ProviderKeyCache(source: source, refetchInterval: .zero)
    _ = try await check(try signer.sign(claims()), cache: cache)
    source.document.withLock { $0 = nil }  // the provider is down
    #expect(await refusal(try TokenSigner(kid: "k7").sign(claims()), cache: cache) == .unknownKey)
    _ = try await check(try signer.sign(claims()), cache: cache)  // still verified with the kept keys
    source.document.withLock { $0 = Array("{\"keys\": 5}".utf8) }  // garbage
    _ = try await check(try signer.sign(claims()), cache: cache)
    // Never fetched: unavailable, not "unknown key".
    let cold = ProviderKeyCache(source: FixedKeySource(nil))
    #expect(await refusal(try signer.sign(claims()), cache: cold) == .keysUnavailable)
    #expect(TokenRefusal.keysUnavailable.rpcError.code == .unavailable)
    #expect(TokenRefusal.badSignature.rpcError.code == .unauthenticated)
    #expect(TokenRefusal.badSignature.rpcError.reason == .tokenSignatureInvalid)
  }

  /// Every refusal's reason is one the error catalogue (and docs/ERRORS.md) knows.
  @Test func everyRefusalIsAKnownReason() {
    for refusal in TokenRefusal.allCases {
      #expect(ErrorReason.allCases.contains(refusal.reason), "\(refusal.reason)")
    }
  }
}
