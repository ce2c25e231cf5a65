import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage

/// What an identity provider may hold: the validation of every field, the
/// defaults, and the conflicts between a tenant's providers.
enum IdentityProviderRules {
  /// Providers per tenant.
  static let maximumPerTenant = 50
  /// The signing algorithms the server verifies.
  static let supportedAlgorithms: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256"]
  /// Scopes asked for when none are configured.
  static let defaultScopes = ["openid", "email", "profile"]
  /// The purpose the client secret is sealed for.
  static let secretPurpose = "idp-client-secret"
  /// Every settable field, as update masks name them.
  static let maskFields = [
    "display_name", "domains", "oidc.issuer", "oidc.client_id", "oidc.client_secret", "oidc.scopes", "oidc.email_claim",
    "oidc.allowed_algorithms", "oidc.access_token_audiences",
  ]

  /// `provider` with every field validated and defaulted (kind and use included).
  static func validated(_ provider: IdentityProvider, allowHTTPLoopback: Bool) throws(RPCError) -> IdentityProvider {
    var result = provider
    result.displayName = try Validation.displayName(provider.displayName, field: "provider.display_name")
    guard provider.kind == .openidConnect else {
      throw RPCError.invalidArgument(field: "provider.kind", "must be OPENID_CONNECT (the only kind so far)")
    }
    guard provider.use == .members || provider.use == .partner else {
      throw RPCError.invalidArgument(field: "provider.use", "must be MEMBERS or PARTNER")
    }
    result.oidc.issuer = try issuer(provider.oidc.issuer, allowHTTPLoopback: allowHTTPLoopback)
    result.oidc.clientID = try token(provider.oidc.clientID, field: "provider.oidc.client_id", limit: 256)
    guard provider.oidc.clientSecret.utf8.count <= 1024 else {
      throw RPCError.invalidArgument(field: "provider.oidc.client_secret", "must be at most 1024 bytes")
    }
    guard provider.oidc.scopes.count <= 20 else { throw RPCError.invalidArgument(field: "provider.oidc.scopes", "at most 20 scopes") }
    var scopes = ["openid"]
    for (index, scope) in provider.oidc.scopes.enumerated() {
      let checked = try token(scope, field: "provider.oidc.scopes[\(index)]", limit: 128)
      if !scopes.contains(checked) { scopes.append(checked) }
    }
    result.oidc.scopes = provider.oidc.scopes.isEmpty ? defaultScopes : scopes
    result.oidc.emailClaim = provider.oidc.emailClaim.isEmpty ? "email" : try token(provider.oidc.emailClaim, field: "provider.oidc.email_claim", limit: 64)
    var algorithms: [String] = []
    for (index, name) in provider.oidc.allowedAlgorithms.enumerated() {
      let upper = name.trimmingSpaces.uppercased()
      guard supportedAlgorithms.contains(upper) else {
        let why = upper == "NONE" || upper.hasPrefix("HS") ? "unsigned and shared-secret (HMAC) tokens are never accepted" : "is not supported"
        throw RPCError.invalidArgument(field: "provider.oidc.allowed_algorithms[\(index)]",
                                       "\(name.prefix(16)): \(why); use \(supportedAlgorithms.sorted().joined(separator: ", "))")
      }
      if !algorithms.contains(upper) { algorithms.append(upper) }
    }
    result.oidc.allowedAlgorithms = algorithms.isEmpty ? ["RS256"] : algorithms
    guard provider.oidc.accessTokenAudiences.count <= 10 else {
      throw RPCError.invalidArgument(field: "provider.oidc.access_token_audiences", "at most 10 audiences")
    }
    result.oidc.accessTokenAudiences = try provider.oidc.accessTokenAudiences.enumerated().map { index, audience throws(RPCError) in
      try token(audience, field: "provider.oidc.access_token_audiences[\(index)]", limit: 256)
    }
    switch provider.use {
    case .members:
      guard provider.domains.isEmpty else { throw RPCError.invalidArgument(field: "provider.domains", "must be empty for MEMBERS") }
    default:
      guard !provider.domains.isEmpty, provider.domains.count <= 100 else {
        throw RPCError.invalidArgument(field: "provider.domains", "a PARTNER provider names 1 to 100 domains")
      }
      var domains: [String] = []
      for (index, domain) in provider.domains.enumerated() {
        let checked = try Validation.domain(domain, field: "provider.domains[\(index)]")
        if !domains.contains(checked) { domains.append(checked) }
      }
      result.domains = domains.sorted()
    }
    return result
  }

  /// An issuer: an https URL without query or fragment, or an http one on a
  /// loopback host when `allowHTTPLoopback`.
  static func issuer(_ value: String, allowHTTPLoopback: Bool) throws(RPCError) -> String {
    let field = "provider.oidc.issuer"
    let url = try Validation.url(value, field: field)
    guard !url.contains("?"), !url.contains("#"), !url.contains("@") else {
      throw RPCError.invalidArgument(field: field, "must have no user, query or fragment")
    }
    if url.lowercased().hasPrefix("http://") {
      guard allowHTTPLoopback, isLoopback(url) else {
        throw RPCError.invalidArgument(field: field, "must be https (plain http only for a loopback issuer on a server started with --oidc-allow-http-loopback)")
      }
    }
    return url
  }

  /// Whether an http(s) URL's host is a loopback address.
  static func isLoopback(_ url: String) -> Bool {
    let authority = url.lowercased().drop { $0 != ":" }.dropFirst(3).prefix { $0 != "/" }
    let host = authority.hasPrefix("[") ? String(authority.prefix { $0 != "]" }) + "]" : String(authority.prefix { $0 != ":" })
    return host == "localhost" || host == "[::1]" || host.hasPrefix("127.")
  }

  /// A printable token without spaces, 1 to `limit` bytes.
  static func token(_ value: String, field: String, limit: Int) throws(RPCError) -> String {
    let text = value.trimmingSpaces
    guard !text.isEmpty, text.utf8.count <= limit else { throw RPCError.invalidArgument(field: field, "is required (at most \(limit) bytes)") }
    guard text.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
      throw RPCError.invalidArgument(field: field, "must contain no spaces or control characters")
    }
    return text
  }

  /// ALREADY_EXISTS when `provider` clashes with another of `others` (the
  /// tenant's providers without it): a second MEMBERS provider, a domain
  /// another PARTNER provider names, or the same issuer.
  static func checkConflicts(_ provider: IdentityProvider, others: [IdentityProvider]) throws(RPCError) {
    func conflict(_ message: String) -> RPCError {
      RPCError.alreadyExists(message, reason: .identityProviderConflict)
    }
    for other in others {
      if other.oidc.issuer == provider.oidc.issuer { throw conflict("provider \(other.id) already has this issuer") }
      if provider.use == .members && other.use == .members { throw conflict("the tenant already has a MEMBERS provider (\(other.id))") }
      if let shared = provider.domains.first(where: other.domains.contains) {
        throw conflict("provider \(other.id) is already the PARTNER provider for \(shared)")
      }
    }
  }
}
