import Crypto
import GuestAccessBase64
import GuestAccessJSON
import _CryptoExtras

/// One key of a provider's JWKS, as the verifier uses it: RSA (2048 bits or
/// more) or EC P-256. Other kinds (symmetric `oct` keys above all) are
/// dropped when the set is read, so an HMAC "key" can never verify a token.
public struct JSONWebKey: Sendable {
  /// The key's id (`kid`; "" when the provider gave none).
  public var id: String
  /// The algorithm the key is published for (`alg`; "" = any of its family).
  public var algorithm: String
  /// The key.
  public var material: Material

  /// RSA or P-256.
  public enum Material: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    /// The raw x‖y of a P-256 key (the key type is not Sendable; it is rebuilt to verify).
    case p256(raw: [UInt8])
  }

  /// Whether this key may verify `alg` (its family, and its own `alg` when published).
  func accepts(_ alg: String) -> Bool {
    if !algorithm.isEmpty && algorithm != alg { return false }
    switch material {
    case .rsa: return alg.hasPrefix("RS") || alg.hasPrefix("PS")
    case .p256: return alg == "ES256"
    }
  }

  /// Whether `signature` over `input` verifies with this key under `alg`.
  func verifies(_ signature: [UInt8], over input: [UInt8], alg: String) -> Bool {
    switch material {
    case .rsa(let key):
      let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: signature)
      let padding: _RSA.Signing.Padding = alg.hasPrefix("PS") ? .PSS : .insecurePKCS1v1_5
      switch alg.dropFirst(2) {
      case "256": return key.isValidSignature(rsaSignature, for: SHA256.hash(data: input), padding: padding)
      case "384": return key.isValidSignature(rsaSignature, for: SHA384.hash(data: input), padding: padding)
      case "512": return key.isValidSignature(rsaSignature, for: SHA512.hash(data: input), padding: padding)
      default: return false
      }
    case .p256(let raw):
      guard let key = try? P256.Signing.PublicKey(rawRepresentation: raw),
        let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
      else { return false }
      return key.isValidSignature(ecdsa, for: SHA256.hash(data: input))
    }
  }

  /// The usable signing keys of a JWKS document (`{"keys": [...]}`); keys
  /// of other kinds, for encryption, or too weak are left out.
  public static func keySet(fromJSON bytes: [UInt8]) throws(TokenRefusal) -> [JSONWebKey] {
    guard let object = try? JSONValue.parse(bytes), case .array(let keys)? = object["keys"] else { throw .keysUnavailable }
    return keys.compactMap { entry in
      guard entry["use"]?.string.map({ $0 == "sig" }) ?? true else { return nil }
      let id = entry["kid"]?.string ?? ""
      let algorithm = entry["alg"]?.string ?? ""
      switch entry["kty"]?.string {
      case "RSA":
        guard let n = entry["n"]?.string.flatMap({ Base64.url.decode($0) }), let e = entry["e"]?.string.flatMap({ Base64.url.decode($0) }),
          let key = try? _RSA.Signing.PublicKey(n: n, e: e), key.keySizeInBits >= 2048
        else { return nil }
        return JSONWebKey(id: id, algorithm: algorithm, material: .rsa(key))
      case "EC":
        guard entry["crv"]?.string == "P-256", let x = entry["x"]?.string.flatMap({ Base64.url.decode($0) }),
          let y = entry["y"]?.string.flatMap({ Base64.url.decode($0) }), x.count == 32, y.count == 32,
          (try? P256.Signing.PublicKey(rawRepresentation: x + y)) != nil
        else { return nil }
        return JSONWebKey(id: id, algorithm: algorithm, material: .p256(raw: x + y))
      default:
        return nil
      }
    }
  }
}
