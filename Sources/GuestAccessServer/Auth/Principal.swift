import GuestAccessCore
import GuestAccessProto

/// Who is calling, after authentication.
public struct Principal: Sendable, Hashable {
  /// The operator (manages tenants) or a user.
  public enum Kind: Sendable, Hashable {
    /// The operator credential.
    case `operator`
    /// A user of a tenant (member, guest acting in another tenant, or passcode guest).
    case user
  }

  /// Operator or user.
  public var kind: Kind
  /// The credential used.
  public var credentialID: String
  /// The credential's own user (the home user); nil for the operator.
  public var homeUser: User?
  /// The user object in the acting tenant: the home user itself, or its guest
  /// object when acting in another tenant; nil for the operator.
  public var actingUser: User?
  /// When the credential stops working (Unix ms; 0 = never): its expiry, the
  /// tenant's maximum key lifetime or the end of a rotation's grace period.
  public var credentialExpiresAt: Int64 = 0
  /// The client certificate identity the credential is bound to ("" = none):
  /// calls must come over mutual TLS with a certificate carrying it.
  public var certificateIdentity = ""

  /// Whether this is the operator.
  public var isOperator: Bool { kind == .operator }
  /// The tenant the caller acts in ("" for the operator).
  public var actingTenantID: String { actingUser?.tenantID ?? "" }
  /// Whether the caller acts as a guest.
  public var isGuest: Bool { actingUser?.userType == .guest }
  /// The acting user's id ("operator" for the operator).
  public var actorID: String { actingUser?.id ?? "operator" }
  /// The acting user's roles (guests have none).
  public var roles: [Role] { isGuest ? [] : actingUser?.roles ?? [] }
  /// GLOBAL_ADMIN in the acting tenant.
  public var isGlobalAdmin: Bool { roles.contains(.globalAdmin) }
  /// GLOBAL_ADMIN or USER_ADMIN in the acting tenant.
  public var isAdmin: Bool { roles.contains(.globalAdmin) || roles.contains(.userAdmin) }
}

/// The context key under which the auth interceptor stores the principal.
public enum PrincipalKey: ServerContextKey {
  public typealias Value = Principal
}

extension ServerContext {
  /// The authenticated caller; UNAUTHENTICATED if none (anonymous methods).
  public func principal() throws(RPCError) -> Principal {
    guard let principal = self[PrincipalKey.self] else {
      throw RPCError.unauthenticated("this method needs a credential", reason: .credentialMissing)
    }
    return principal
  }
}
