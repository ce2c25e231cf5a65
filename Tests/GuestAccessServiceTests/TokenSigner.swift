import Crypto
import Foundation
import GuestAccessBase64
import GuestAccessLocks
import GuestAccessServer
import _CryptoExtras

/// Signs JWTs the way a provider does, with keys the test owns, and
/// publishes their JWKS: for the token validation tests.
struct TokenSigner: Sendable {
  let kid: String
  let rsa: _RSA.Signing.PrivateKey

  init(kid: String) throws {
    self.kid = kid
    rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
  }

  /// The public key as a JWK object.
  func jwk() throws -> [String: String] {
    let primitives = try rsa.publicKey.getKeyPrimitives()
    return ["kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": Base64.url.encode(Array(primitives.modulus)), "e": Base64.url.encode(Array(primitives.publicExponent))]
  }

  /// A JWKS document of `signers`' keys, plus `extra` JWK objects.
  static func jwks(_ signers: [TokenSigner], extra: [[String: String]] = []) throws -> [UInt8] {
    Array(try JSONSerialization.data(withJSONObject: ["keys": try signers.map { try $0.jwk() } + extra]))
  }

  /// A compact JWS of `claims` under `header` (alg RS256 and this kid by default), signed with this key.
  func sign(_ claims: [String: Any], header: [String: Any]? = nil) throws -> String {
    let head = header ?? ["alg": "RS256", "kid": kid, "typ": "JWT"]
    let input = Self.part(head) + "." + Self.part(claims)
    let signature = try rsa.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
    return input + "." + Base64.url.encode(Array(signature.rawRepresentation))
  }

  /// base64url of the JSON of `object`.
  static func part(_ object: [String: Any]) -> String {
    Base64.url.encode(Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()))
  }
}

/// A key source serving a document the test sets, counting requests; nil fails the fetch.
final class FixedKeySource: ProviderKeySource {
  let document = LockedValue<[UInt8]?>(nil)

  init(_ document: [UInt8]?) { self.document.withLock { $0 = document } }

  func keySet(issuer: String) async throws -> [UInt8] {
    guard let bytes = document.withLock({ $0 }) else { throw TokenRefusal.keysUnavailable }
    return bytes
  }
}
