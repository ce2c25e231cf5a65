import GuestAccessCore
import GuestAccessProto
import GuestAccessStorage
import Logging

/// What every service needs: the store, the clock, the audit hub and the
/// server's policy defaults.
public struct ServiceEnvironment: Sendable {
  /// The persistence layer.
  public let store: any DirectoryStore
  /// Wall-clock time.
  public let clock: any ServerClock
  /// Audit fan-out for watchers.
  public let auditHub: AuditHub
  /// Keyed hashes of tickets and passcodes.
  public let hasher: SecretHasher
  /// Invitations per window when a tenant sets no limit.
  public var defaultInvitationRateLimit: Int32
  /// Base URL of redeem links.
  public var publicBaseURL: String
  /// Logger.
  public var logger: Logger
  /// The bootstrap operator key's file (`operator.key` in the data
  /// directory), deleted when that key is revoked, rotated or retired; nil = none.
  public var operatorKeyFile: String?
  /// Whether identity providers may have a plain-http issuer on a loopback
  /// address (a provider on this machine; tests and development only).
  public var allowHTTPLoopbackIssuers = false
  /// Discovery, code exchange and signing keys of identity providers (nil =
  /// neither browser sign-in through providers nor provider tokens on the RPC).
  public var providers: ProviderConnector?
  /// The signing keys of the identity providers' issuers (the connector's),
  /// shared by every check of a provider token; nil = provider tokens are not accepted.
  public var providerKeys: ProviderKeyCache? { providers?.keys }

  /// Creates the environment.
  public init(
    store: any DirectoryStore, clock: any ServerClock = SystemServerClock(), auditHub: AuditHub = AuditHub(),
    hasher: SecretHasher = .ephemeral(), defaultInvitationRateLimit: Int32 = 1000, publicBaseURL: String = "http://localhost:7700",
    logger: Logger = Logger(label: "guestaccess")
  ) {
    self.store = store
    self.clock = clock
    self.auditHub = auditHub
    self.hasher = hasher
    self.defaultInvitationRateLimit = defaultInvitationRateLimit
    self.publicBaseURL = publicBaseURL
    self.logger = logger
  }

  /// Runs a write that returns audit events with its result; publishes the
  /// events once committed and maps store errors to status codes.
  func write<T: Sendable>(_ body: @escaping @Sendable (any DirectoryWriter, inout [AuditEvent]) throws -> T) async throws -> T {
    let (result, events) = try await mapStoreErrors {
      try await store.write { writer -> (T, [AuditEvent]) in
        var events: [AuditEvent] = []
        let result = try body(writer, &events)
        return (result, events)
      }
    }
    auditHub.publish(events)
    return result
  }

  /// Runs a read, mapping store errors to status codes.
  func read<T: Sendable>(_ body: @escaping @Sendable (any DirectoryReader) throws -> T) async throws -> T {
    try await mapStoreErrors { try await store.read(body) }
  }

  private func mapStoreErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
      return try await body()
    } catch let error as RPCError {
      throw error
    } catch let error as StoreError {
      switch error {
      case .conflict(let what):
        throw RPCError.alreadyExists(what)
      case .corrupt(let what):
        logger.error("corrupt stored data: \(what)")
        throw RPCError(code: .dataLoss, message: "stored data could not be read")
      }
    } catch let error as any StorageFailure {
      logger.error("storage error: \(error)")
      if error.provablyNotCommitted {
        throw RPCError.callNotProcessed("storage unavailable; nothing was written, retry", cause: error)
      }
      if error.isTransient { throw RPCError(code: .unavailable, message: "storage is busy, retry") }
      throw RPCError(code: .internalError, message: "storage error (code \(error.storageCode))")
    }
  }
}
