import GuestAccessCore

/// Input rules shared by the services; every failure names the field.
enum Validation {
  /// A display name: 1 to 256 characters, no control characters.
  static func displayName(_ value: String, field: String = "display_name") throws(RPCError) -> String {
    let trimmed = value.trimmingSpaces
    guard !trimmed.isEmpty else { throw RPCError.invalidArgument(field: field, "is required") }
    guard trimmed.count <= 256 else { throw RPCError.invalidArgument(field: field, "must be at most 256 characters") }
    guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
      throw RPCError.invalidArgument(field: field, "must not contain control characters")
    }
    return trimmed
  }

  /// A client certificate identity a credential is bound to: empty, or a
  /// URI or subject DN of at most 1024 characters without control characters.
  static func certificateIdentity(_ value: String) throws(RPCError) -> String {
    let field = "client_certificate_identity"
    guard value.count <= 1024 else { throw RPCError.invalidArgument(field: field, "must be at most 1024 characters") }
    guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
      throw RPCError.invalidArgument(field: field, "must not contain control characters")
    }
    guard value == value.trimmingSpaces else { throw RPCError.invalidArgument(field: field, "must not start or end with spaces") }
    return value
  }

  /// Optional free text up to `limit` characters.
  static func text(_ value: String, field: String, limit: Int = 1024) throws(RPCError) -> String {
    guard value.count <= limit else { throw RPCError.invalidArgument(field: field, "must be at most \(limit) characters") }
    return value
  }

  /// An email address as Entra's invitation API accepts it: one `@`, a local
  /// part of 1–64 characters from the RFC 5322 atom set and dots (not
  /// leading, trailing or doubled), a domain that `domain()` accepts, 254
  /// characters at most. Returned lower-cased.
  static func email(_ value: String, field: String) throws(RPCError) -> String {
    let mail = value.trimmingSpaces.lowercased()
    guard !mail.isEmpty else { throw RPCError.invalidArgument(field: field, "is required") }
    guard mail.utf8.count <= 254 else { throw RPCError.invalidArgument(field: field, "must be at most 254 characters") }
    let parts = mail.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2 else { throw RPCError.invalidArgument(field: field, "must contain exactly one @") }
    let local = parts[0]
    guard !local.isEmpty, local.utf8.count <= 64 else {
      throw RPCError.invalidArgument(field: field, "local part must be 1 to 64 characters")
    }
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~.".utf8)
    guard local.utf8.allSatisfy({ allowed.contains($0) }), !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
      throw RPCError.invalidArgument(field: field, "local part has invalid characters or dots")
    }
    do {
      _ = try domain(String(parts[1]), field: field)
    } catch {
      throw RPCError.invalidArgument(field: field, "domain is not a valid host name")
    }
    return mail
  }

  /// A DNS domain: 2+ labels of letters, digits and hyphens (not at label
  /// ends), 1–63 characters each, 253 at most, a non-numeric top level.
  static func domain(_ value: String, field: String) throws(RPCError) -> String {
    let domain = value.trimmingSpaces.lowercased()
    guard !domain.isEmpty, domain.utf8.count <= 253 else { throw RPCError.invalidArgument(field: field, "must be 1 to 253 characters") }
    let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
    guard labels.count >= 2 else { throw RPCError.invalidArgument(field: field, "must have at least two labels, e.g. example.com") }
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-".utf8)
    for label in labels {
      guard !label.isEmpty, label.utf8.count <= 63, label.utf8.allSatisfy({ allowed.contains($0) }),
        !label.hasPrefix("-"), !label.hasSuffix("-")
      else { throw RPCError.invalidArgument(field: field, "\"\(domain)\" is not a valid domain") }
    }
    guard let tld = labels.last, !tld.allSatisfy(\.isNumber) else {
      throw RPCError.invalidArgument(field: field, "top-level label must not be numeric")
    }
    return domain
  }

  /// A domain pattern for collaboration lists: a domain or `*.` + domain.
  static func domainPattern(_ value: String, field: String) throws(RPCError) -> String {
    let text = value.trimmingSpaces.lowercased()
    if text.hasPrefix("*.") { return "*." + (try domain(String(text.dropFirst(2)), field: field)) }
    return try domain(text, field: field)
  }

  /// An absolute http(s) URL without spaces, at most 2048 characters.
  static func url(_ value: String, field: String) throws(RPCError) -> String {
    let url = value.trimmingSpaces
    guard url.utf8.count <= 2048 else { throw RPCError.invalidArgument(field: field, "must be at most 2048 characters") }
    let lower = url.lowercased()
    guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
      throw RPCError.invalidArgument(field: field, "must be an absolute http or https URL")
    }
    let rest = url.drop { $0 != ":" }.dropFirst(3)
    guard let host = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first, !host.isEmpty,
      !url.contains(where: { $0 == " " || $0.asciiValue.map { $0 < 0x20 } ?? false })
    else { throw RPCError.invalidArgument(field: field, "must name a host and contain no spaces") }
    return url
  }

  /// An idempotency key: at most 128 printable ASCII characters.
  static func idempotencyKey(_ value: String) throws(RPCError) -> String {
    guard value.utf8.count <= 128, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
      throw RPCError.invalidArgument(field: "idempotency_key", "must be at most 128 printable ASCII characters")
    }
    return value
  }

  /// A required id.
  static func id(_ value: String, field: String) throws(RPCError) -> String {
    guard !value.isEmpty else { throw RPCError.invalidArgument(field: field, "is required") }
    guard value.utf8.count <= 64 else { throw RPCError.invalidArgument(field: field, "is not a valid id") }
    return value
  }
}

extension String {
  var trimmingSpaces: String {
    var scalars = Substring(self)
    while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
    while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
    return String(scalars)
  }
}
